"""Atomic, verified replacement of a file: temp file beside it, fsync, check, rename.

A process killed at any point leaves either the old file or the new one,
never a mixture; a failed check leaves the old file untouched.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import DisclosureError


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
        fd, name = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".aidisclose-tmp", dir=folder)
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
