"""ISO BMFF / QuickTime boxes (MP4, MOV, M4A, HEIF, AVIF, JPEG XL): walk them, and build one."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import DisclosureError

#: Boxes whose children are boxes, for the structure check and the MOV XMP_ search.
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"udta", b"edts", b"dinf", b"mvex", b"moof", b"traf"}
MAX_DEPTH = 16


@dataclass(frozen=True)
class Box:
    kind: bytes
    offset: int
    header: int
    size: int
    to_end: bool = False  # the header said size 0: the box runs to the end of the file

    @property
    def payload(self) -> int:
        return self.offset + self.header

    @property
    def end(self) -> int:
        return self.offset + self.size


def box_name(kind: bytes) -> str:
    return kind.decode("latin-1")


def read_boxes(handle: BinaryIO, start: int, end: int, path: Path) -> list[Box]:
    """The sibling boxes in ``[start, end)``, each size checked against ``end``."""
    boxes = []
    position = start
    while position + 8 <= end:
        handle.seek(position)
        size, kind = struct.unpack(">I4s", handle.read(8))
        header, to_end = 8, False
        if size == 1:
            extended = handle.read(8)
            if len(extended) < 8:
                raise DisclosureError(path, f"box '{box_name(kind)}' is cut short; the file is truncated")
            size, header = struct.unpack(">Q", extended)[0], 16
        elif size == 0:
            size, to_end = end - position, True
        if size < header or position + size > end:
            raise DisclosureError(
                path,
                f"box '{box_name(kind)}' at byte {position} claims {size} bytes but only {end - position} "
                "remain; the file is truncated or the size is wrong",
            )
        boxes.append(Box(kind, position, header, size, to_end))
        position += size
    return boxes


def top_level_boxes(path: Path) -> list[Box]:
    with open(path, "rb") as handle:
        return read_boxes(handle, 0, path.stat().st_size, path)


def nested_boxes(handle: BinaryIO, boxes: list[Box], path: Path) -> Iterator[Box]:
    """Every box inside the container boxes of ``boxes`` (depth first, bounded depth), sizes checked."""

    def walk(parent: Box, depth: int) -> Iterator[Box]:
        if depth > MAX_DEPTH:
            raise DisclosureError(path, f"boxes are nested more than {MAX_DEPTH} deep; the file is malformed")
        for child in read_boxes(handle, parent.payload, parent.end, path):
            yield child
            if child.kind in CONTAINERS:
                yield from walk(child, depth + 1)

    for top in boxes:
        if top.kind in CONTAINERS:
            yield from walk(top, 1)


def uuid_boxes(handle: BinaryIO, boxes: list[Box]) -> Iterator[tuple[Box, bytes]]:
    """Each ``uuid`` box of ``boxes`` with its 16-byte extended type, read from the open file."""
    for found in boxes:
        if found.kind == b"uuid" and found.size - found.header >= 16:
            handle.seek(found.payload)
            yield found, handle.read(16)


def box(kind: bytes, payload: bytes) -> bytes:
    """One box: size, type and ``payload`` (a 64-bit size when it needs one)."""
    size = 8 + len(payload)
    if size <= 0xFFFFFFFF:
        return struct.pack(">I4s", size, kind) + payload
    return struct.pack(">I4sQ", 1, kind, size + 8) + payload
