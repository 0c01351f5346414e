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


#: The headers of the JPEG segments that carry the carriers exiv2 writes: the main XMP packet (APP1) and
#: Photoshop's image resources (APP13), where IPTC IIM lives.
JPEG_XMP = (0xE1, b"http://ns.adobe.com/xap/1.0/\0")
JPEG_PHOTOSHOP = (0xED, b"Photoshop 3.0\0")


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]] | None:
    """(marker, whole segment) for each segment before the scan, the scan and what follows as one last
    (0xDA, rest); None when the layout is not that of a plain JPEG (fill bytes, damage)."""
    if data[:2] != b"\xff\xd8":
        return None
    segments, position = [], 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker in _JPEG_SCAN:
            segments.append((marker, data[position:]))
            return segments
        end = position + 2 + int.from_bytes(data[position + 2 : position + 4], "big")
        if end > len(data):
            return None
        segments.append((marker, data[position:end]))
        position = end
    return None


def _is(segment: tuple[int, bytes], kind: tuple[int, bytes]) -> bool:
    return segment[0] == kind[0] and segment[1][4:].startswith(kind[1])


def splice_jpeg_carriers(original: bytes, edited: bytes) -> bytes | None:
    """``original`` with its XMP and Photoshop segments replaced by those of ``edited``; every other
    segment (Exif, ICC, JUMBF, comments...) kept byte for byte. None when either layout is not plain.

    exiv2 re-encodes Exif whenever it writes a JPEG, and drops IFD0 entries it holds misplaced there
    (``PhotometricInterpretation`` of many cameras), so only the segments it was asked to change are taken.
    """
    before, after = jpeg_segments(original), jpeg_segments(edited)
    if before is None or after is None:
        return None
    kinds = (JPEG_XMP, JPEG_PHOTOSHOP)
    new = {kind: [s for s in after if _is(s, kind)] for kind in kinds}
    out: list[bytes] = []
    placed: set[tuple[int, bytes]] = set()
    for segment in before:
        kind = next((k for k in kinds if _is(segment, k)), None)
        if kind is None and segment[0] not in (0xE0, 0xE1) and len(placed) < len(kinds):
            for missing in kinds:  # a carrier the original lacked: after its leading APP0/APP1 segments
                if missing not in placed:
                    out += [s for _, s in new[missing]]
                    placed.add(missing)
        if kind is None:
            out.append(segment[1])
        elif kind not in placed:
            out += [s for _, s in new[kind]]
            placed.add(kind)
    return b"\xff\xd8" + b"".join(out)
