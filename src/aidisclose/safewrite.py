"""Atomic, verified replacement of a file: temp file beside it, fsync, check, rename.

A process killed at any point leaves either the old file or the new one,
never a mixture; a failed check leaves the old file untouched. What a killed
process leaves behind is cleaned up by the next run that writes the same path
(:func:`recover`): its temp files, and, for an edit made in place, the
:class:`RollbackJournal` that puts the file's old bytes back.
"""

from __future__ import annotations

import base64
import errno
import fcntl
import json
import os
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Generic, TypeVar

from .errors import DisclosureError
from .inputs import READ_UNFOLLOWED

T = TypeVar("T")

TEMP_SUFFIX = ".aidisclose-tmp"
_ENDING_SIGNALS = {signal.SIGTERM, signal.SIGHUP, signal.SIGINT}
JOURNAL_SUFFIX = ".aidisclose-journal"


class Verify(StrEnum):
    """How much of the essence to compare after a write that edits in place."""

    touched = "touched"  # prove no write touched media bytes: O(metadata)
    full = "full"  # also hash all media before and after: O(file)


def _fsync_path(path: Path, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_can_replace(path: Path) -> None:
    """Refuse to replace a file its owner marked read-only, even when run as root."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise DisclosureError(path, "is read-only", "make it writable (chmod u+w) or write a copy with --output DIR")


def replace_atomically(
    destination: Path,
    produce: Callable[[Path], object],
    verify: Callable[[Path], None],
    mode_from: Path | None,
    keep: bool = True,
    sync_while_verifying: bool = False,
) -> int:
    """Make ``destination`` from ``produce(temp)`` once ``verify(temp)`` passes.

    ``mode_from`` gives the new file its permissions (None: the umask's).
    ``keep=False`` is for a ``verify`` that links the temp file into place
    itself: the temp file is then removed instead of renamed. Returns the
    size of the new file.

    The temp file is on disk (fsync) before it is renamed; with ``sync_while_verifying``
    the fsync runs in a thread while ``verify`` reads the file (a large file's flush to
    disk then takes no time of its own), and the rename waits for both.
    """
    folder = destination.parent
    # A signal between making the temp file and the ``try`` below would leave it behind: held off until then.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _ENDING_SIGNALS)
    try:
        try:
            fd, name = tempfile.mkstemp(prefix=f".{destination.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=folder)
        except OSError as exc:
            raise DisclosureError(
                folder, f"cannot create a temporary file here: {exc.strerror or exc}", "check the folder's permissions"
            ) from None
        os.close(fd)
        temp = Path(name)
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        produce(temp)
        if sync_while_verifying:
            _verify_syncing(temp, verify)
        else:
            _fsync_path(temp)
            verify(temp)
        if mode_from is not None:
            shutil.copymode(mode_from, temp)
        else:  # a new file: what the umask allows, as open() would give it (a link shares the inode)
            umask = os.umask(0o022)
            os.umask(umask)
            temp.chmod(0o666 & ~umask)
        size = temp.stat().st_size
        if keep:
            os.replace(temp, destination)
        else:
            temp.unlink()
        _fsync_path(folder, directory=True)
        return size
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _verify_syncing(temp: Path, verify: Callable[[Path], None]) -> None:
    """``verify(temp)`` with ``temp`` flushed to disk meanwhile, in a thread; returns once both are done."""
    with Background(partial(_fsync_path, temp)) as flushing:
        verify(temp)
    flushing.value()


class Background(Generic[T]):
    """``work()`` run in a thread; ``value()`` waits for it (and raises its error).

    Leaving the ``with`` block waits for the thread too, so no thread outlives the file it reads.
    """

    def __init__(self, work: Callable[[], T]) -> None:
        self._done = False
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(work,), daemon=True)

    def _run(self, work: Callable[[], T]) -> None:
        try:
            self._value = work()
            self._done = True
        except BaseException as exc:  # raised in the caller's thread, by ``value``
            self._error = exc

    def __enter__(self) -> Background[T]:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._thread.join()

    def value(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._done
        return self._value  # type: ignore[return-value]  # set by work(), which may return None


def write_new_file(path: Path, text: str, replace: bool) -> None:
    """Write a small text file the user asked for (a template, a policy) atomically.

    Without ``replace`` an existing file is refused; the check and the write are
    one step (a hard link of the finished temp file), so a file that appears in
    between is never overwritten. A missing folder is a one-line refusal.
    """
    if not path.parent.is_dir():
        raise DisclosureError(path, f"cannot be written: the folder {path.parent} does not exist", "create it first")
    if not replace and (path.exists() or path.is_symlink()):
        raise DisclosureError(path, "already exists", "pass --force to replace it")

    def produce(temp: Path) -> None:
        temp.write_text(text, encoding="utf-8")

    def settle(temp: Path) -> None:
        if replace:
            return
        try:
            os.link(temp, path)
        except FileExistsError:
            raise DisclosureError(path, "already exists", "pass --force to replace it") from None

    try:
        if replace:
            replace_atomically(path, produce, lambda _temp: None, mode_from=None)
        else:
            replace_atomically(path, produce, settle, mode_from=None, keep=False)
    except OSError as exc:
        raise DisclosureError(path, f"cannot be written: {exc.strerror or exc}; nothing was changed") from None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _owner_pid(name: str, prefix: str) -> int | None:
    """The pid in ``.{target}.{pid}.…`` names, None for names of another shape."""
    pid = name[len(prefix) :].split(".", 1)[0]
    return int(pid) if pid.isdigit() else None


def journal_path(path: Path) -> Path:
    return path.parent / f".{path.name}{JOURNAL_SUFFIX}"


def recover(path: Path) -> list[str]:
    """Undo what a killed aidisclose process left at ``path``; returns one line per thing done.

    Call it only for a file about to be written, holding :func:`exclusive` on it. An
    in-place edit whose journal is still there is rolled back to the old bytes, once
    the journal is shown to be this user's record of an edit of this very file
    (:meth:`RollbackJournal.roll_back`); temp files beside ``path`` (and its
    sidecars) whose process is gone are removed.
    """
    done = []
    journal = journal_path(path)
    if os.path.lexists(journal):
        RollbackJournal.roll_back(path, journal)
        done.append(f"rolled back an interrupted in-place edit of {path.name}")
    for target in (path, journal):
        done += _remove_stale_temps(target)
    return done


def pending_edit(path: Path) -> str | None:
    """A note when ``path`` has a journal beside it, for a run that only reads the file and leaves it alone."""
    if not os.path.lexists(journal_path(path)):
        return None
    return (
        f"{path.name} has the journal of an interrupted in-place edit ({journal_path(path).name}); "
        "it was left as it is: stamp it with --in-place to roll the edit back"
    )


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file at ``path`` (if it exists) for the whole edit; refuse a second writer.

    The lock is on the file (``flock``), so hard links share it. A file replaced while the
    lock was taken is refused too: the lock would be on a file no longer at ``path``.
    """
    try:
        fd = os.open(path, READ_UNFOLLOWED)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ELOOP):
            raise
        yield  # nothing there yet, or a link that a write replaces (never writes through)
        return
    busy = DisclosureError(
        path, "is being stamped by another aidisclose process; nothing was changed", "wait for it, then run again"
    )
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            yield  # not a file: refused by name when it is read
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy from None
        held, now = os.fstat(fd), os.stat(path, follow_symlinks=False)
        if (held.st_dev, held.st_ino) != (now.st_dev, now.st_ino):
            raise busy
        yield
    finally:
        os.close(fd)


def _remove_stale_temps(target: Path) -> list[str]:
    """Temp files made for ``target`` (or its sidecars) by processes that are gone."""
    prefix = f".{target.name}."
    try:
        names = [n for n in os.listdir(target.parent) if n.startswith(prefix) and n.endswith(TEMP_SUFFIX)]
    except OSError:
        return []
    removed = []
    for name in names:
        pid = _owner_pid(name, prefix)
        if pid is not None and _alive(pid):
            continue
        (target.parent / name).unlink(missing_ok=True)
        removed.append(f"removed the temp file {name} of an interrupted run")
    return removed


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True)
class _Range:
    """One range an edit overwrites: its offset, the bytes before the edit, the bytes the edit writes there."""

    offset: int
    old: bytes
    new: bytes

    def now_holds_a_state_of_this_edit(self, current: bytes) -> bool:
        """The new bytes written so far (a write runs from its start), the old ones after them."""
        done = 0
        while done < len(current) and current[done] == self.new[done]:
            done += 1
        return current[done:] == self.old[done:]


class RollbackJournal:
    """The old bytes of every range an in-place edit will overwrite, and the old size, made durable first.

    Used as a context manager around the edit, given every write the edit will make
    (``writes``: offset and bytes; those past the old end need no old bytes). On
    entry the journal is written atomically beside the file; on a clean exit it is
    removed; on an exception the file is rolled back from it. A process killed inside
    leaves the journal, and :func:`recover` rolls the file back from it.

    The journal is bound to the edit it records: the file (device and inode), its size
    before and after, and for each range both the old and the new bytes. A roll back
    happens only when the journal was made by this user and the file is, byte for byte,
    in a state this edit passes through; anything else (a journal planted beside a
    file, left from another file of that name, or a file changed since) is refused and
    nothing is touched.
    """

    def __init__(self, path: Path, fd: int, writes: list[tuple[int, bytes]]) -> None:
        self.path, self.fd = path, fd
        info = os.fstat(fd)
        self.size = info.st_size
        self.final_size = max([self.size] + [offset + len(data) for offset, data in writes])
        self.ranges: list[_Range] = []
        for offset, data in writes:
            if offset < self.size:
                length = min(len(data), self.size - offset)
                self.ranges.append(_Range(offset, os.pread(fd, length, offset), data[:length]))
        self.identity = {"pid": os.getpid(), "uid": os.geteuid(), "dev": info.st_dev, "ino": info.st_ino}

    def __enter__(self) -> RollbackJournal:
        data = self.identity | {
            "size": self.size,
            "final_size": self.final_size,
            "ranges": [[r.offset, _b64(r.old), _b64(r.new)] for r in self.ranges],
        }
        text = json.dumps(data).encode()
        try:
            replace_atomically(journal_path(self.path), lambda temp: temp.write_bytes(text), lambda _t: None, self.path)
        except BaseException:
            journal_path(self.path).unlink(missing_ok=True)  # nothing was edited yet
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is not None:
            _restore(self.fd, self.size, self.ranges)
        journal_path(self.path).unlink(missing_ok=True)
        _fsync_path(self.path.parent, directory=True)

    @staticmethod
    def roll_back(path: Path, journal: Path) -> None:
        """Put back the old bytes the journal holds, once it is shown to record an edit of this file."""

        def refuse(why: str) -> DisclosureError:
            return DisclosureError(
                path,
                f"has a rollback journal beside it ({journal.name}) that {why}; nothing was changed",
                f"check the file, then remove {journal.name}",
            )

        info = os.lstat(journal)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            raise refuse("this user's aidisclose did not write (another owner, or not a regular file)")
        try:
            data = json.loads(journal.read_bytes())
            ranges = [_Range(int(o), base64.b64decode(old), base64.b64decode(new)) for o, old, new in data["ranges"]]
            size, final_size = int(data["size"]), int(data["final_size"])
            dev, ino = int(data["dev"]), int(data["ino"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise refuse(f"is unreadable ({exc})") from None
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (dev, ino):
                raise refuse("records an edit of another file")
            if not size <= now.st_size <= final_size or not all(
                len(r.old) == len(r.new) and r.now_holds_a_state_of_this_edit(os.pread(fd, len(r.old), r.offset))
                for r in ranges
            ):
                raise refuse("does not match it: the file changed since")
            _restore(fd, size, ranges)
        finally:
            os.close(fd)
        journal.unlink()
        _fsync_path(path.parent, directory=True)


def _restore(fd: int, size: int, ranges: list[_Range]) -> None:
    """Old bytes back and the old size, with unbuffered writes into space the file already has.

    Nothing here allocates (every range lies inside the old size and truncating frees), so a
    full disk cannot stop a roll back.
    """
    for r in reversed(ranges):
        os.pwrite(fd, r.old, r.offset)
    os.ftruncate(fd, size)
    os.fsync(fd)
