"""Ogg pages: walk them, and tell the codec of a stream by its first packet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import DisclosureError


@dataclass(frozen=True)
class Page:
    offset: int
    body_start: int
    body_length: int
    packets_ended: int  # packets that end on this page (lacing values under 255)


def first_packet(head: bytes) -> bytes | None:
    """The start of the first packet of the first page in ``head``, or None if ``head`` is not Ogg."""
    if head[:4] != b"OggS" or len(head) <= 27 or len(head) <= 27 + head[26]:
        return None
    return head[27 + head[26] :]


def pages(path: Path) -> Iterator[Page]:
    """Every page of the file in order; a page cut short or missing is refused."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        position = 0
        while position < size:
            handle.seek(position)
            header = handle.read(27)
            if len(header) < 27 or header[:4] != b"OggS":
                raise DisclosureError(path, f"has no Ogg page at byte {position}; the file is truncated or damaged")
            lacing = handle.read(header[26])
            if len(lacing) < header[26]:
                raise DisclosureError(path, "its last Ogg page is cut short; the file is truncated")
            body_start, body_length = position + 27 + len(lacing), sum(lacing)
            if body_start + body_length > size:
                raise DisclosureError(path, "its last Ogg page is cut short; the file is truncated")
            yield Page(position, body_start, body_length, sum(1 for value in lacing if value < 255))
            position = body_start + body_length
