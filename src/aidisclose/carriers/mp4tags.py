"""M4A (MP4 audio): iTunes freeform atoms ``----:org.aidisclose:*`` and ``cprt`` through mutagen.

The essence is the payload of every top-level ``mdat`` box; mutagen may move
``mdat`` when ``moov`` grows (and fixes the chunk offsets), but never changes it.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from mutagen import MutagenError
from mutagen.mp4 import MP4, AtomDataType, MP4FreeForm

from ..errors import DisclosureError
from .base import hash_ranges
from .tags import MutagenTagStore

MP4_TAGS = "mp4"
FREEFORM = "----:org.aidisclose:"
RECORD_ATOM = FREEFORM + "RECORD"


def top_level_boxes(path: Path) -> list[tuple[bytes, int, int]]:
    """(type, payload offset, payload length) of each top-level box; sizes are checked."""
    size = path.stat().st_size
    boxes = []
    with open(path, "rb") as handle:
        position = 0
        while position + 8 <= size:
            handle.seek(position)
            length, kind = struct.unpack(">I4s", handle.read(8))
            header = 8
            if length == 1:
                extended = handle.read(8)
                if len(extended) < 8:
                    raise DisclosureError(path, f"box '{kind.decode('latin-1')}' is cut short; the file is truncated")
                length, header = struct.unpack(">Q", extended)[0], 16
            elif length == 0:
                length = size - position  # the box runs to the end of the file
            if length < header or position + length > size:
                raise DisclosureError(
                    path,
                    f"box '{kind.decode('latin-1')}' at byte {position} claims {length} bytes but only "
                    f"{size - position} remain; the file is truncated or the size is wrong",
                )
            boxes.append((kind, position + header, length - header))
            position += length
    return boxes


class Mp4TagStore(MutagenTagStore):
    carrier = MP4_TAGS
    record_key = RECORD_ATOM

    def _open(self, path: Path) -> MP4:
        top_level_boxes(path)  # refuse broken box sizes before mutagen guesses
        try:
            return MP4(path)
        except (MutagenError, struct.error, ValueError, EOFError) as exc:
            raise DisclosureError(path, f"cannot read the MP4 boxes ({exc}); the file is damaged") from None

    def _our_key(self, key: str) -> str | None:
        return key if key.startswith(FREEFORM) or key == "cprt" else None

    def _to_tag(self, key: str, values: list[str]) -> list[Any]:
        if key.startswith("----:"):
            return [MP4FreeForm(t.encode("utf-8"), dataformat=AtomDataType.UTF8) for t in values]
        return values

    def essence_digest(self, path: Path) -> str:
        ranges = [(offset, length) for kind, offset, length in top_level_boxes(path) if kind == b"mdat"]
        if not ranges:
            raise DisclosureError(path, "has no 'mdat' box; there is no media in it")
        return hash_ranges(path, ranges, b"bmff-mdat")
