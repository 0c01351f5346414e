"""JPEG segments, PNG chunks and the first TIFF IFD: walked only as far as a look at the headers needs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, Literal

#: JPEG markers after which no more metadata segments come.
_JPEG_SCAN = (0xDA, 0xD9)


def jpeg_markers(head: bytes) -> Iterator[int | None]:
    """The marker of each segment before the scan data in ``head``; None where no marker stands (damage)."""
    position = 2
    while position + 4 <= len(head):
        if head[position] != 0xFF:
            yield None
            return
        marker = head[position + 1]
        yield marker
        if marker in _JPEG_SCAN:
            return
        position += 2 + int.from_bytes(head[position + 2 : position + 4], "big")


def png_chunk_types(handle: BinaryIO) -> Iterator[bytes]:
    """The type of each PNG chunk in order, to ``IEND`` or the end of what can be read."""
    handle.seek(8)
    while True:
        header = handle.read(8)
        if len(header) < 8:
            return
        length, kind = int.from_bytes(header[:4], "big"), header[4:]
        yield kind
        if kind == b"IEND":
            return
        handle.seek(length + 4, 1)


def tiff_byte_order(head: bytes) -> Literal["little", "big"] | None:
    """The byte order of a classic TIFF header (None for BigTIFF or anything else)."""
    if head[:4] == b"II*\0":
        return "little"
    if head[:4] == b"MM\0*":
        return "big"
    return None


def tiff_first_ifd_tags(handle: BinaryIO, head: bytes) -> list[int] | None:
    """The tag numbers of the first IFD, or None when the header or the IFD cannot be read."""
    order = tiff_byte_order(head)
    if order is None:
        return None
    handle.seek(int.from_bytes(head[4:8], order))
    count = int.from_bytes(handle.read(2), order)
    entries = handle.read(12 * count)
    if count == 0 or len(entries) < 12 * count:
        return None
    return [int.from_bytes(entries[i : i + 2], order) for i in range(0, len(entries), 12)]
