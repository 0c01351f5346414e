"""Watch a folder: check each file as it lands or changes, once it has stopped growing."""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import itertools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from .batch import SIDECAR_SUFFIXES
from .carriers.c2pa.trust import TrustSettings
from .check import CheckReport, FileCheck, Verdict, build_report, check_file
from .errors import DisclosureError
from .inputs import READ_UNFOLLOWED
from .policy import Policy

#: How long a file's size and modification time must stay the same before it is read (``--settle``).
#: A copy that stalls (a network share, an exporter between passes) leaves both unchanged for as long as
#: it stalls: 3 s outlasts a 2 s pause with a second to spare. Where the system can tell that a file is
#: still open for writing (Linux: a read lease is refused while any process has it open for writing), a
#: file is not read while it is, however long the pause.
DEFAULT_SETTLE = 3.0

#: Where nothing can be asked whether a file is open (a lease is refused: another user's file, a network
#: file system), a file modified and not yet closed (inotify) is still read after this long without change:
#: a close event the kernel dropped must not hold a file back forever.
OPEN_FALLBACK = 60.0


def open_for_writing(path: Path) -> bool | None:
    """Whether some process has ``path`` open for writing; None where the system cannot tell.

    A read lease (``F_SETLEASE``, Linux) is refused with EAGAIN while the file is open for writing by
    any process; it is released at once. Opening the file is not reading it.
    """
    lease = getattr(fcntl, "F_SETLEASE", None)
    if lease is None:
        return None
    try:
        fd = os.open(path, READ_UNFOLLOWED)
    except OSError:
        return None
    try:
        try:
            fcntl.fcntl(fd, lease, fcntl.F_RDLCK)
        except OSError as exc:
            # EAGAIN: open for writing. EACCES: not our file and no CAP_LEASE; EINVAL: no leases here (NFS).
            return True if exc.errno == errno.EAGAIN else None
        fcntl.fcntl(fd, lease, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


@dataclass
class _Pending:
    size: int
    mtime_ns: int
    since: float  # when the file was first seen with this size and mtime (monotonic)


class Arrivals(FileSystemEventHandler):
    """Collects paths that were created, changed or moved in; ignores hidden, temporary and sidecar files.

    ``leave_out`` are folders whose files are never arrivals (an output folder inside the watched one);
    ``ignore_names`` are file names that are not arrivals either (a hot folder's per-folder records).
    ``on_rescan`` is told when the folder should be looked through again: one of those files changed, or
    a folder was made or moved in (its files may come without events of their own). ``accept`` leaves
    out the paths it refuses (--include and --exclude).
    """

    def __init__(
        self,
        root: Path,
        leave_out: tuple[Path, ...] = (),
        ignore_names: frozenset[str] = frozenset(),
        on_rescan: Callable[[], None] | None = None,
        accept: Callable[[Path], bool] | None = None,
    ) -> None:
        self.root = root
        self.leave_out = tuple(folder.resolve() for folder in leave_out)
        self.ignore_names = ignore_names
        self.on_rescan = on_rescan
        self.accept = accept
        self.pending: dict[Path, _Pending] = {}
        self.writing: set[Path] = set()  # modified since they were last closed after writing (inotify)
        # Only inotify (Linux) reports a close after writing; elsewhere a modified file would never leave the set.
        self.closes_reported = sys.platform.startswith("linux")
        self.settled_as: dict[Path, tuple[int, int]] = {}  # size and mtime when ``settled`` returned it
        self.lock = threading.Lock()

    def wanted(self, path: Path) -> bool:
        relative = path.relative_to(self.root) if path.is_relative_to(self.root) else path
        if any(part.startswith(".") for part in relative.parts) or path.suffix in SIDECAR_SUFFIXES:
            return False
        if any(path.is_relative_to(folder) for folder in self.leave_out):
            return False
        if path.name in self.ignore_names:
            if self.on_rescan is not None:
                self.on_rescan()
            return False
        return self.accept is None or self.accept(path)

    def note(self, path: Path) -> None:
        """Watch ``path`` until it settles (again, if it was being watched)."""
        if self.wanted(path):
            with self.lock:
                self.pending[path] = _Pending(-1, -1, time.monotonic())

    def _path(self, raw: str | bytes) -> Path:
        return Path(os.fsdecode(raw))

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.note(self._path(event.src_path))
        elif self.on_rescan is not None:
            self.on_rescan()

    def on_modified(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            path = self._path(event.src_path)
            with self.lock:
                self.writing.add(path)
            self.note(path)

    def on_closed(self, event: FileSystemEvent) -> None:  # IN_CLOSE_WRITE: a writer closed it
        if not event.is_directory:
            with self.lock:
                self.writing.discard(self._path(event.src_path))

    def on_moved(self, event: FileSystemEvent) -> None:
        if event.is_directory and self.on_rescan is not None:
            self.on_rescan()
        if not event.is_directory:
            path = self._path(event.dest_path)
            with self.lock:
                self.writing.discard(path)  # moved in whole, after its writer closed it
            self.note(path)

    def settled(self, quiet: float) -> list[Path]:
        """Paths that have settled, taken off the list, in the order they were noted.

        Settled: size and mtime unchanged for ``quiet`` seconds, and no process has the file open for
        writing (where that can be told; else no write since the last close, or ``OPEN_FALLBACK`` s).
        """
        ready = []
        now = time.monotonic()
        with self.lock:
            for path, seen in list(self.pending.items()):
                try:
                    info = path.stat()
                except OSError:
                    del self.pending[path]  # gone again (a temporary file renamed away)
                    self.writing.discard(path)
                    continue
                if (info.st_size, info.st_mtime_ns) != (seen.size, seen.mtime_ns):
                    self.pending[path] = _Pending(info.st_size, info.st_mtime_ns, now)
                    continue
                if now - seen.since < quiet:
                    continue
                is_open = open_for_writing(path)
                unclosed = self.closes_reported and path in self.writing and now - seen.since < OPEN_FALLBACK
                if is_open or (is_open is None and unclosed):
                    continue  # still open for writing: a copy that paused
                ready.append(path)
                del self.pending[path]
                self.writing.discard(path)
                self.settled_as[path] = (info.st_size, info.st_mtime_ns)
        return ready

    def still_settled(self, path: Path) -> bool:
        """Whether ``path`` is as ``settled`` found it, now that its turn has come (the files settled before
        it may have taken minutes): not written to since, not open for writing. Else it is watched again."""
        with self.lock:
            seen = self.settled_as.pop(path, None)
            if path in self.pending:
                return False  # an event since: it settles again
        try:
            info = path.stat()
        except OSError:
            return False  # gone
        if (info.st_size, info.st_mtime_ns) == seen and not open_for_writing(path):
            return True
        self.note(path)
        return False


def watch(
    folder: Path,
    policies: list[Policy],
    on_checked: Callable[[FileCheck, CheckReport], None],
    strict: bool = False,
    trust: TrustSettings | None = None,
    quiet: float = DEFAULT_SETTLE,
    stop: threading.Event | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Check files arriving in ``folder`` (recursively) until ``stop`` is set, Ctrl-C or SIGTERM.

    ``on_started`` is called once events are being received: a file that lands after it is seen.
    """

    def arrived(path: Path) -> None:
        checked, report = check_arrival(path, policies, strict, trust)
        if checked.verdict is not Verdict.skipped:
            on_checked(checked, report)

    run_watch(Arrivals(folder.resolve()), arrived, quiet, stop, on_started=on_started)


def check_arrival(
    path: Path, policies: list[Policy], strict: bool, trust: TrustSettings | None
) -> tuple[FileCheck, CheckReport]:
    """One arrival checked, with its report (as ``check`` writes it for one file)."""
    started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
    checked = check_file(path, policies, strict, named=False, trust=trust)
    return checked, build_report([checked], policies, strict, started, time.perf_counter() - clock)


def run_watch(
    arrivals: Arrivals,
    handle: Callable[[Path], None],
    quiet: float = DEFAULT_SETTLE,
    stop: threading.Event | None = None,
    scan: Callable[[], Iterable[Path]] | None = None,
    rescan: threading.Event | None = None,
    rescan_every: float | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    """``handle`` each path that settles in ``arrivals.root`` until ``stop`` is set, Ctrl-C or SIGTERM.

    ``scan`` lists the paths already there that need work: noted once the observer runs (so nothing
    that lands meanwhile is missed), again whenever ``rescan`` is set and every ``rescan_every`` s.
    """
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        # Services and pipelines stop with SIGTERM: finish the file in hand, then stop as for Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        # A lease taken to ask whether a file is open is broken by SIGIO, whose default ends the process.
        signal.signal(signal.SIGIO, signal.SIG_IGN)
    observer = Observer()
    observer.schedule(arrivals, str(arrivals.root), recursive=True)
    observer.start()
    if on_started is not None:
        on_started()
    rescan = rescan or threading.Event()
    if scan is not None:
        rescan.set()
    last_scan = time.monotonic()
    try:
        while not stop.is_set():
            due = rescan_every is not None and time.monotonic() - last_scan >= rescan_every
            if scan is not None and (rescan.is_set() or due):
                rescan.clear()
                last_scan = time.monotonic()
                for path in scan():
                    if path not in arrivals.pending:
                        arrivals.note(path)
            for path in arrivals.settled(quiet):
                if arrivals.still_settled(path):
                    handle(path)
                if stop.is_set():
                    break
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
        observer.join()


def prepare_report_folder(folder: Path) -> None:
    """Make sure arrival reports can go into ``folder`` (made if missing), before any file is watched."""
    if folder.exists() and not folder.is_dir():
        raise DisclosureError(folder, "is not a folder", "give --report the folder the reports should go into")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DisclosureError(folder, f"cannot make the report folder: {exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DisclosureError(folder, "cannot write reports into this folder: permission denied")


def write_arrival_report(folder: Path, checked: FileCheck, report: CheckReport) -> Path:
    """Write one arrival's JSON report into ``folder``; its path.

    The name is the file's name, the time to the microsecond and, when another report already has that
    name (two files of one name in different subfolders, a file arriving twice at once), a counter: a
    report never replaces another (the file is created exclusively).
    """
    when = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    base = f"{Path(checked.path).name}.{when}"
    text = report.model_dump_json(indent=2).encode()
    names = (folder / (f"{base}.json" if count == 0 else f"{base}.{count}.json") for count in itertools.count())
    target = next(names)
    while True:
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            break
        except FileExistsError:
            target = next(names)
        except OSError as exc:
            raise DisclosureError(target, f"cannot write the report: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text)
    except OSError as exc:
        target.unlink(missing_ok=True)  # never leave half a report
        raise DisclosureError(target, f"cannot write the report: {exc.strerror or exc}") from None
    return target
