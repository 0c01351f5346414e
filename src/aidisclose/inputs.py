"""Reading the small files a user names: records, manifests, policies, keys, certificates, settings.

Each is read whole, so each is bounded: a wrong path (a video given as
``--record``, ``/dev/zero``) is one line naming the limit, never a run that
fills memory. Pipes are read too (``--record <(make-record)``), within the
same bound.
"""

from __future__ import annotations

import io
from pathlib import Path

from .errors import DisclosureError

#: Far beyond any record, policy, key or anchor bundle; a records manifest has its own, larger bound.
INPUT_LIMIT = 16 << 20
MANIFEST_LIMIT = 256 << 20


def read_input(path: Path, what: str, limit: int = INPUT_LIMIT) -> bytes:
    """The file's bytes. OSError as ``open`` raises it; DisclosureError when it is over ``limit``."""
    with open(path, "rb") as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise DisclosureError(path, f"is over {limit >> 20} MB: too large to be {what}", "check the path")
    return data


def read_input_text(path: Path, what: str, encoding: str = "utf-8", limit: int = INPUT_LIMIT) -> str:
    """The file as text with universal newlines, as ``Path.read_text`` gives it."""
    return io.TextIOWrapper(io.BytesIO(read_input(path, what, limit)), encoding=encoding).read()
