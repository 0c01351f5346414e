"""FLAC streams: the metadata blocks after ``fLaC`` (optionally behind an ID3 tag) and where the frames start."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import DisclosureError
from .id3 import id3v2_size

STREAMINFO = 0


@dataclass(frozen=True)
class FlacLayout:
    audio_start: int  # offset of the first frame
    max_frame: int  # STREAMINFO's maximum frame size (0: unknown)


def read_layout(path: Path) -> FlacLayout:
    """Walk the metadata blocks; refused when they run past the file's end."""
    with open(path, "rb") as handle:
        start = id3v2_size(handle.read(10))
        handle.seek(start)
        if handle.read(4) != b"fLaC":
            raise DisclosureError(path, "is not a FLAC stream")
        position, last, max_frame = start + 4, False, 0
        while not last:
            handle.seek(position)
            header = handle.read(4)
            if len(header) < 4:
                raise DisclosureError(path, "ends inside its FLAC metadata; the file is truncated")
            last, kind = bool(header[0] & 0x80), header[0] & 0x7F
            if kind == STREAMINFO:
                max_frame = int.from_bytes(handle.read(10)[7:10], "big")
            position += 4 + int.from_bytes(header[1:4], "big")
    return FlacLayout(position, max_frame)
