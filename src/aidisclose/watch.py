"""Watch a folder: check each file as it lands or changes, once it has stopped growing."""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from .batch import SIDECAR_SUFFIXES
from .carriers.c2pa.trust import TrustSettings
from .check import CheckReport, FileCheck, Verdict, build_report, check_file
from .errors import DisclosureError
from .policy import Policy


class _Arrivals(FileSystemEventHandler):
    """Collects paths that were created, changed or moved in; ignores hidden, temporary and sidecar files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pending: dict[Path, tuple[int, float, float]] = {}  # path -> (size, mtime, when first seen so)
        self.lock = threading.Lock()

    def _note(self, raw: str | bytes) -> None:
        path = Path(raw.decode() if isinstance(raw, bytes) else raw)
        relative = path.relative_to(self.root) if path.is_relative_to(self.root) else path
        if any(part.startswith(".") for part in relative.parts) or path.suffix in SIDECAR_SUFFIXES:
            return
        with self.lock:
            self.pending[path] = (-1, -1.0, time.monotonic())

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._note(event.src_path)

    def on_modified(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._note(event.src_path)

    def on_moved(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._note(event.dest_path)

    def settled(self, quiet: float) -> list[Path]:
        """Paths whose size and mtime have not changed for ``quiet`` seconds (taken off the list)."""
        ready = []
        now = time.monotonic()
        with self.lock:
            for path, (size, mtime, since) in list(self.pending.items()):
                try:
                    info = path.stat()
                except OSError:
                    del self.pending[path]  # gone again (a temporary file renamed away)
                    continue
                if (info.st_size, info.st_mtime) != (size, mtime):
                    self.pending[path] = (info.st_size, info.st_mtime, now)
                elif now - since >= quiet:
                    ready.append(path)
                    del self.pending[path]
        return ready


def watch(
    folder: Path,
    policies: list[Policy],
    on_checked: Callable[[FileCheck, CheckReport], None],
    strict: bool = False,
    trust: TrustSettings | None = None,
    quiet: float = 1.0,
    stop: threading.Event | None = None,
) -> None:
    """Check files arriving in ``folder`` (recursively) until ``stop`` is set, Ctrl-C or SIGTERM."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        # Services and pipelines stop with SIGTERM: finish the file in hand, then stop as for Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    arrivals = _Arrivals(folder.resolve())
    observer = Observer()
    observer.schedule(arrivals, str(folder.resolve()), recursive=True)
    observer.start()
    try:
        while not stop.is_set():
            for path in arrivals.settled(quiet):
                started, clock = dt.datetime.now(dt.UTC), time.perf_counter()
                checked = check_file(path, policies, strict, named=False, trust=trust)
                if checked.verdict is not Verdict.skipped:
                    report = build_report([checked], policies, strict, started, time.perf_counter() - clock)
                    on_checked(checked, report)
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
