"""TIFF (and DNG) image file directories: every IFD and SubIFD, and the image data they point at."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from ..errors import DisclosureError
from .stills import tiff_byte_order

_STRIP_OFFSETS, _STRIP_COUNTS, _TILE_OFFSETS, _TILE_COUNTS, _SUB_IFDS = 273, 279, 324, 325, 330
_TYPE_SIZES = {1: 1, 3: 2, 4: 4, 13: 4, 16: 8}  # BYTE, SHORT, LONG, IFD, LONG8
MAX_IFDS = 256
MAX_ENTRIES = 4096
MAX_RANGES = 1 << 20  # strips and tiles in all IFDs together: a crafted file must not fill memory


def _values(handle: BinaryIO, order: str, kind: int, count: int, inline: bytes, size: int) -> list[int]:
    width = _TYPE_SIZES.get(kind)
    if width is None or count > 1 << 20:
        return []
    data = inline[: width * count] if width * count <= 4 else b""
    if not data:
        offset = struct.unpack(order + "I", inline)[0]
        if offset + width * count > size:
            return []
        handle.seek(offset)
        data = handle.read(width * count)
    letter = {1: "B", 2: "H", 4: "I", 8: "Q"}[width]
    return list(struct.unpack(f"{order}{count}{letter}", data))


def tiff_image_data(path: Path) -> list[tuple[int, int]]:
    """(offset, length) of every strip and tile of every IFD (IFD chain and SubIFDs), in walk order."""
    size = path.stat().st_size
    ranges: list[tuple[int, int]] = []
    with open(path, "rb") as handle:
        head = handle.read(8)
        byte_order = tiff_byte_order(head)
        if byte_order is None:
            raise DisclosureError(path, "is not a classic TIFF (BigTIFF is not read)")
        order = "<" if byte_order == "little" else ">"
        pending = [struct.unpack(order + "I", head[4:8])[0]]
        seen: set[int] = set()
        while pending:
            ifd = pending.pop(0)
            if ifd == 0 or ifd in seen:
                continue
            if len(seen) >= MAX_IFDS or ifd + 2 > size:
                raise DisclosureError(path, "its image file directories are damaged or loop")
            seen.add(ifd)
            handle.seek(ifd)
            count = struct.unpack(order + "H", handle.read(2))[0]
            if count > MAX_ENTRIES or ifd + 2 + 12 * count + 4 > size:
                raise DisclosureError(path, f"its IFD at byte {ifd} runs past the end of the file")
            entries = handle.read(12 * count)
            pending.append(struct.unpack(order + "I", handle.read(4))[0])
            tags: dict[int, list[int]] = {}
            for i in range(count):
                tag, kind, n = struct.unpack(order + "HHI", entries[12 * i : 12 * i + 8])
                if tag in (_STRIP_OFFSETS, _STRIP_COUNTS, _TILE_OFFSETS, _TILE_COUNTS, _SUB_IFDS):
                    tags[tag] = _values(handle, order, kind, n, entries[12 * i + 8 : 12 * i + 12], size)
            pending += tags.get(_SUB_IFDS, [])
            for offsets, counts in ((_STRIP_OFFSETS, _STRIP_COUNTS), (_TILE_OFFSETS, _TILE_COUNTS)):
                for offset, length in zip(tags.get(offsets, []), tags.get(counts, []), strict=False):
                    if len(ranges) >= MAX_RANGES:
                        raise DisclosureError(path, f"has over {MAX_RANGES:,} image strips or tiles; refused")
                    if offset + length > size:
                        raise DisclosureError(path, f"image data at byte {offset} runs past the end of the file")
                    ranges.append((offset, length))
    if not ranges:
        raise DisclosureError(path, "has no image data (no strips or tiles)")
    return ranges
