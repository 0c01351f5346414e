"""Atomic, verified replacement of a file: temp file beside it, fsync, check, rename.

A process killed at any point leaves either the old file or the new one,
never a mixture; a failed check leaves the old file untouched. What a killed
process leaves behind is cleaned up by the next run that writes the same path
(:func:`recover`): its temp files, and, for an edit made in place, the
:class:`RollbackJournal` that puts the file's old bytes back.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from .errors import DisclosureError

TEMP_SUFFIX = ".aidisclose-tmp"
JOURNAL_SUFFIX = ".aidisclose-journal"


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
    mode_from: Path,
) -> int:
    """Make ``destination`` from ``produce(temp)`` once ``verify(temp)`` passes.

    Returns the size of the new file.
    """
    folder = destination.parent
    try:
        fd, name = tempfile.mkstemp(prefix=f".{destination.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise DisclosureError(
            folder, f"cannot create a temporary file here: {exc.strerror or exc}", "check the folder's permissions"
        ) from None
    os.close(fd)
    temp = Path(name)
    try:
        produce(temp)
        _fsync_path(temp)
        verify(temp)
        shutil.copymode(mode_from, temp)
        size = temp.stat().st_size
        os.replace(temp, destination)
        _fsync_path(folder, directory=True)
        return size
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


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

    An in-place edit whose journal is still there is rolled back to the old
    bytes; temp files beside ``path`` (and its sidecars) whose process is gone
    are removed. Files of a process still running are left alone.
    """
    done = []
    journal = journal_path(path)
    if journal.exists():
        pid = RollbackJournal.owner(journal)
        if pid is None or not _alive(pid):
            RollbackJournal.roll_back(path, journal)
            done.append(f"rolled back an interrupted in-place edit of {path.name}")
    for target in (path, journal):
        done += _remove_stale_temps(target)
    return done


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


class RollbackJournal:
    """The old bytes of every range an in-place edit will overwrite, and the old size, made durable first.

    Used as a context manager around the edit: on entry the journal file is
    written atomically beside the file; on a clean exit it is removed; on an
    exception the file is rolled back from it. A process killed inside leaves
    the journal, and :func:`recover` rolls the file back from it.
    """

    def __init__(self, path: Path, handle: BinaryIO, ranges: list[tuple[int, int]]) -> None:
        self.path, self.handle = path, handle
        self.size = os.fstat(handle.fileno()).st_size
        self.ranges: list[tuple[int, bytes]] = []
        for offset, length in ranges:
            handle.seek(offset)
            self.ranges.append((offset, handle.read(length)))

    def __enter__(self) -> RollbackJournal:
        data = {
            "pid": os.getpid(),
            "size": self.size,
            "ranges": [[offset, base64.b64encode(old).decode()] for offset, old in self.ranges],
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
            _restore(self.handle, self.size, self.ranges)
        journal_path(self.path).unlink(missing_ok=True)
        _fsync_path(self.path.parent, directory=True)

    @staticmethod
    def owner(journal: Path) -> int | None:
        try:
            pid = json.loads(journal.read_bytes()).get("pid")
        except (OSError, ValueError, AttributeError):
            return None
        return pid if isinstance(pid, int) else None

    @staticmethod
    def roll_back(path: Path, journal: Path) -> None:
        try:
            data = json.loads(journal.read_bytes())
            ranges = [(int(offset), base64.b64decode(old)) for offset, old in data["ranges"]]
            size = int(data["size"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DisclosureError(
                journal, f"cannot roll back the interrupted edit of {path.name}: the journal is unreadable ({exc})"
            ) from None
        with open(path, "r+b") as handle:
            _restore(handle, size, ranges)
        journal.unlink()
        _fsync_path(path.parent, directory=True)


def _restore(handle: BinaryIO, size: int, ranges: list[tuple[int, bytes]]) -> None:
    for offset, old in reversed(ranges):
        handle.seek(offset)
        handle.write(old)
    handle.truncate(size)
    handle.flush()
    os.fsync(handle.fileno())
