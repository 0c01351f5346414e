"""Watch a folder: check each file as it lands or changes, once it has stopped growing."""

from __future__ import annotations

import datetime as dt
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
