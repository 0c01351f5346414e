"""Reading the small files a user names: records, manifests, policies, keys, certificates, settings.

Each is read whole, so each is bounded: a wrong path (a video given as
``--record``, ``/dev/zero``) is one line naming the limit, never a run that
fills memory. Pipes are read too (``--record <(make-record)``), within the
same bound.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

from .errors import DisclosureError

#: Far beyond any record, policy, key or anchor bundle; a records manifest has its own, larger bound.
INPUT_LIMIT = 16 << 20
MANIFEST_LIMIT = 256 << 20


#: Opening a file someone else may have put there: never through a link, never waiting on a FIFO.
READ_UNFOLLOWED = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def read_input(path: Path, what: str, limit: int = INPUT_LIMIT, *, links: bool = True) -> bytes:
    """The file's bytes. OSError as ``open`` raises it; DisclosureError when it is over ``limit``.

    With ``links=False`` (a file found in a folder, not one the user named) a symlink is refused
    (``OSError`` ELOOP) and so is anything but a regular file.
    """
    if links:
        with open(path, "rb") as stream:
            data = stream.read(limit + 1)
    else:
        fd = os.open(path, READ_UNFOLLOWED)
        with os.fdopen(fd, "rb") as stream:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise DisclosureError(path, "is not a regular file", f"{what} is a file of its own")
            data = stream.read(limit + 1)
    if len(data) > limit:
        raise DisclosureError(path, f"is larger than {limit >> 20} MB: too large to be {what}", "check the path")
    return data


def read_input_text(path: Path, what: str, encoding: str = "utf-8", limit: int = INPUT_LIMIT) -> str:
    """The file as text with universal newlines, as ``Path.read_text`` gives it."""
    return io.TextIOWrapper(io.BytesIO(read_input(path, what, limit)), encoding=encoding).read()
