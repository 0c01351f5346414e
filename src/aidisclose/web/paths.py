"""Every path the web app touches, confined to its root folder: no absolute paths, no ``..``, no symlink out."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path, PurePosixPath

from ..errors import DisclosureError

#: Characters kept in an uploaded file's name; anything else becomes ``_``.
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 120
INCOMING = "incoming"


class OutsideRoot(DisclosureError):
    """A path a request named that leads outside the root, or is not a plain relative path."""


def confined(root: Path, relative: str) -> Path:
    """``root / relative``, resolved, if it stays inside ``root`` (which must be resolved already).

    Refused: an absolute path, a ``..`` part, a NUL or other control character, a backslash, and any
    path whose resolved form (every symlink followed) is outside the root.
    """
    text = relative.strip()
    if any(ord(c) < 0x20 or c == "\x7f" for c in text) or "\\" in text:
        raise OutsideRoot(relative, "a path with a control character or a backslash is not accepted")
    pure = PurePosixPath(text)
    if pure.is_absolute() or text.startswith("~"):
        raise OutsideRoot(text, "is not a path relative to the root folder")
    if ".." in pure.parts:
        raise OutsideRoot(text, "'..' is not accepted: name paths inside the root folder")
    candidate = root.joinpath(*pure.parts) if pure.parts else root
    resolved = Path(os.path.realpath(candidate))
    if resolved != root and not resolved.is_relative_to(root):
        raise OutsideRoot(text, "leads outside the root folder (a symlink)")
    return resolved


def relative_name(root: Path, path: Path) -> str:
    """``path`` as the app shows it: relative to the root, with ``/``."""
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.as_posix()


def safe_upload_name(name: str) -> str:
    """An uploaded file's name as it is written: its last part only, in letters, digits, ``.``, ``_`` and ``-``.

    The extension is kept (the format is detected from the content anyway); a name left empty or hidden
    becomes ``upload``.
    """
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode()
    base = _UNSAFE_NAME.sub("_", base).strip("._ ")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[: MAX_NAME - len(suffix) - 1] or "upload"
    return f"{stem}.{suffix[:16]}" if suffix else stem


def new_file(folder: Path, name: str) -> tuple[Path, int]:
    """A new file ``name`` (or ``name-1``, ``name-2``...) created exclusively in ``folder``, as an open descriptor.

    Never replaces or follows anything already there: ``O_EXCL`` with ``O_NOFOLLOW``.
    """
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    for number in range(1000):
        candidate = name if number == 0 else f"{stem}-{number}" + (f".{suffix}" if suffix else "")
        path = folder / candidate
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except FileExistsError:
            continue
        return path, fd
    raise DisclosureError(folder / name, "a thousand files of that name are there already", "clean up incoming/")
