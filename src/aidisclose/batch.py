"""Folders at scale: walk files in a stable order, and map work over them in parallel, results in order.

Walking follows the same rules for every command: folders are walked
recursively in sorted order; hidden files and folders are left out, and
listed as skipped ("hidden"); a sidecar (``NAME.EXT.xmp``, ``NAME.EXT.c2pa``)
is read with its media file, not on its own; symlinks are not followed unless
asked, and a link loop is detected; special files (FIFOs, devices, sockets)
are listed as skipped with a reason. What the walk cannot read (a folder it
cannot list, one deleted while it is walked, a path too long) is an error of
the batch, never left out: nothing unchecked passes.
"""

from __future__ import annotations

import fnmatch
import os
import signal
import stat
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .errors import DisclosureError, UnsupportedFormat, unexpected

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

T = TypeVar("T")
R = TypeVar("R")
SIDECAR_SUFFIXES = (".xmp", ".c2pa")
HIDDEN = "hidden"  # the reason a dotfile or dot-folder is listed as skipped


@dataclass(frozen=True)
class WalkOptions:
    include: tuple[str, ...] = ()  # glob patterns; a file must match one (relative path or name)
    exclude: tuple[str, ...] = ()  # glob patterns; a file matching one is left out
    follow_symlinks: bool = False
    #: Folders met while walking that are listed as skipped, not walked, with the reason: say, the folder
    #: ``stamp --output`` writes into, when it lies inside a folder being stamped.
    leave_out: tuple[tuple[Path, str], ...] = ()

    def selects(self, relative: str) -> bool:
        """Whether a file at ``relative`` (a POSIX path under the walked folder) passes --include and --exclude."""
        if self.include and not _matches(relative, self.include):
            return False
        return not (self.exclude and _matches(relative, self.exclude))


@dataclass(frozen=True)
class Item:
    """One file to work on, the folder it was found under (None if named), and why it is skipped if it is.

    ``error`` says why the walk could not read an entry (a folder it cannot list): an error of the batch.
    """

    path: Path
    root: Path | None = None
    skip: str | None = None
    size: int = 0  # bytes, as found while walking: how the work is shared out, not a fact reported
    error: str | None = None

    @property
    def named(self) -> bool:
        return self.root is None

    @property
    def relative(self) -> Path:
        return self.path.relative_to(self.root) if self.root else Path(self.path.name)


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """One item of a batch: its result, or the one line saying why it failed or was skipped."""

    path: Path | str  # a str for an object in storage: a URL is no Path (``s3://`` would lose a slash)
    result: R | None = None
    error: str | None = None  # one line; exceptions do not cross process boundaries well
    skipped: str | None = None


def unworkable(item: Item) -> Outcome[Any] | None:
    """The outcome of an item there is no work for: one the walk could not read (an error), or skipped."""
    if item.error:
        return Outcome(item.path, error=DisclosureError(item.path, item.error).one_line())
    if item.skip:
        return Outcome(item.path, skipped=f"{item.path}: {item.skip}")
    return None


def attempt(work: Callable[[Path], R], item: Item) -> Outcome[R]:
    """``work(item.path)`` as an Outcome, for every command alike; never raises.

    A file met while walking a folder that is plainly not media, by its name and
    its content, is skipped (``detect`` tells it); a named one is an error, as is
    any file that cannot be read or written and anything the walk could not read.
    """
    early = unworkable(item)
    if early is not None:
        return early
    try:
        return Outcome(item.path, result=work(item.path))
    except UnsupportedFormat as err:
        return Outcome(item.path, error=err.one_line()) if item.named else Outcome(item.path, skipped=err.one_line())
    except DisclosureError as err:
        return Outcome(item.path, error=err.one_line())
    except Exception as exc:  # a bug must not stop the batch; the line says it is one
        return Outcome(item.path, error=unexpected(item.path, exc))


def item_size(item: Item) -> int:
    """For ``imap_in_order``: how much reading an item is."""
    return item.size


def _matches(relative: str, patterns: tuple[str, ...]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(relative, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def _is_sidecar(path: Path) -> bool:
    return path.suffix in SIDECAR_SUFFIXES and path.with_suffix("").exists()


def _left_out(folder: Path, options: WalkOptions) -> str | None:
    if not options.leave_out:
        return None
    resolved = folder.resolve()
    return next((reason for other, reason in options.leave_out if other.resolve() == resolved), None)


def walk(paths: Iterable[Path], options: WalkOptions | None = None) -> Iterator[Item]:
    """Every file under ``paths`` in a stable order; named files are always yielded."""
    options = options or WalkOptions()
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            yield Item(path)  # the worker reports why it cannot read the file
            continue
        if stat.S_ISDIR(info.st_mode):
            yield from _walk_folder(path, options)
        else:
            yield Item(path, size=info.st_size)


def _walk_folder(root: Path, options: WalkOptions) -> Iterator[Item]:
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            info = folder.stat()
            if (info.st_dev, info.st_ino) in seen:
                yield Item(folder, root, "a symlink loop: this folder was already walked")
                continue
            seen.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:  # unlistable, deleted while walked, a path too long: never left out unseen
            yield Item(folder, root, error=f"cannot list the folder: {exc.strerror or exc}")
            continue
        folders = []
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                if not (options.exclude and _matches(path.relative_to(root).as_posix(), options.exclude)):
                    yield Item(path, root, HIDDEN)
                continue
            try:
                if entry.is_symlink() and not options.follow_symlinks:
                    yield Item(path, root, "a symlink, not followed (pass --follow-symlinks)")
                    continue
                info = entry.stat(follow_symlinks=True)
            except OSError as exc:
                yield Item(path, root, error=f"cannot read: {exc.strerror or exc}")
                continue
            if stat.S_ISDIR(info.st_mode):
                reason = _left_out(path, options)
                if reason:
                    yield Item(path, root, reason)
                else:
                    folders.append(path)
                continue
            relative = path.relative_to(root).as_posix()
            if options.include and not _matches(relative, options.include):
                continue
            if options.exclude and _matches(relative, options.exclude):
                continue
            if not stat.S_ISREG(info.st_mode):
                yield Item(path, root, "not a regular file (a FIFO, device or socket)")
            elif not _is_sidecar(path):
                yield Item(path, root, size=info.st_size)
        stack.extend(reversed(folders))  # depth first, in sorted order


#: Small files travel to a worker process in chunks: one hand-over (pickling, a pipe, a wake-up of the
#: parent) per chunk rather than per file, so the parent stays off the CPUs the workers need.
CHUNK_FILES = 16
CHUNK_BYTES = 8 << 20


def _chunks(items: Iterable[T], size_of: Callable[[T], int] | None, jobs: int = 0) -> Iterator[list[T]]:
    """``items`` in order, grouped up to CHUNK_FILES items or CHUNK_BYTES; one per chunk without ``size_of``.

    Given ``jobs`` and a list, chunks grow smaller near its end (a few per process at most), so the last
    files spread over the processes rather than leave one process working through a whole chunk alone.
    """
    left = len(items) if jobs > 0 and isinstance(items, Sized) else None
    chunk: list[T] = []
    weight = 0
    limit = CHUNK_FILES
    for item in items:
        if not chunk and left is not None:
            limit = max(1, min(CHUNK_FILES, left // (jobs * 4)))
        chunk.append(item)
        weight += size_of(item) if size_of else CHUNK_BYTES
        if len(chunk) >= limit or weight >= CHUNK_BYTES:
            if left is not None:
                left -= len(chunk)
            yield chunk
            chunk, weight = [], 0
    if chunk:
        yield chunk


class _Stopped(BaseException):
    """A worker told to stop in the middle of its work: raised to unwind it, then the worker exits."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


_working = False  # in a worker: whether a chunk is being worked on
#: In a worker: the run's ``work``, given once when the worker starts (forked, so never pickled), not with
#: every chunk: a check's work holds its policies, whose compiled rules cost ~1.5 ms to unpickle per chunk.
_work: Callable[[Any], Any] | None = None


def _run_chunk(chunk: list[T]) -> list[R]:
    global _working
    _working = True
    try:
        assert _work is not None, "a worker is started with its work"
        return [_work(item) for item in chunk]
    except _Stopped as stop:  # unwound: temp files removed, in-place edits rolled back
        os._exit(stop.code)
    finally:
        _working = False


def imap_in_order(
    work: Callable[[T], R], items: Iterable[T], jobs: int = 1, size_of: Callable[[T], int] | None = None
) -> Iterator[R]:
    """``work`` over ``items`` on ``jobs`` processes, yielded in input order as they finish.

    With ``size_of`` (an item's size in bytes), small items are handed over in chunks; a large
    one travels alone, so big files still spread over the processes. At most a few chunks per
    process are in flight, so memory does not grow with the number of items. ``work`` must be
    picklable (a module-level function or a partial of one).
    """
    if jobs <= 1:
        yield from map(work, items)
        return
    from concurrent.futures import ProcessPoolExecutor  # one file, one process: a pool only for a batch

    window = jobs * 3
    # Forked workers, whatever the interpreter's default: they share the parent's pages (see cli.main) and
    # know their parent is this process (forkserver or spawn would put another process between them).
    import multiprocessing

    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_start, initargs=(os.getpid(), work))
    try:
        pending: deque[Future[list[R]]] = deque()
        for chunk in _chunks(items, size_of, jobs):
            pending.append(pool.submit(_run_chunk, chunk))
            if len(pending) >= window:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    except BaseException:  # a signal, Ctrl-C, a consumer that stopped early: no worker may outlive the run
        _terminate(pool)
        raise
    pool.shutdown()


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Stop every worker now (each unwinds: temp files removed, in-place edits rolled back), not after its work."""
    # The executor has no public way to stop its workers (before Python 3.14); its Process objects do.
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join()


#: Signals that end a run (besides SIGINT, which Python already turns into KeyboardInterrupt).
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def exit_on_signals() -> None:
    """SIGTERM and SIGHUP end the run as Ctrl-C does, by an exception: what is half-written is undone."""
    for number in ENDING_SIGNALS:
        signal.signal(number, _raise_exit)


def _raise_exit(number: int, _frame: object) -> None:
    raise SystemExit(128 + number)


def _stop_worker(number: int, _frame: object) -> None:
    if _working:
        raise _Stopped(128 + number)
    os._exit(128 + number)  # between chunks: nothing to undo


def _worker_start(parent: int, work: Callable[[Any], Any]) -> None:
    """A worker ends with its parent, however the parent ends (even killed), and unwinds its work on SIGTERM.

    ``work`` is what the worker runs on each item of its chunks.
    """
    global _work
    _work = work
    for number in ENDING_SIGNALS:
        signal.signal(number, _stop_worker)
    if sys.platform.startswith("linux"):
        import ctypes  # only in workers: PR_SET_PDEATHSIG has no wrapper in the standard library

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the call above
            os._exit(128 + signal.SIGTERM)


def map_in_order(
    work: Callable[[T], R],
    items: list[T],
    jobs: int = 1,
    on_result: Callable[[R], None] | None = None,
) -> list[R]:
    """As ``imap_in_order``, collected into a list; ``on_result`` sees each result as it comes."""
    results: list[R] = []
    for result in imap_in_order(work, items, jobs if len(items) > 1 else 1):
        results.append(result)
        if on_result:
            on_result(result)
    return results


def default_jobs() -> int:
    return os.cpu_count() or 1


def effective_jobs(requested: int | None, files: int | None = None) -> int:
    """The processes worth starting: as asked (default: one per CPU), never more than CPUs or files."""
    return max(1, min(requested or default_jobs(), default_jobs(), files if files is not None else default_jobs()))
