"""JPEG segments, PNG chunks, the first TIFF IFD, Photoshop image resources and the IIM datasets in them:
walked only as far as a look at the headers, or a splice of the carriers exiv2 rewrote, needs."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
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


def png_chunk_at(data: bytes, offset: int) -> tuple[int, int] | None:
    """Where the PNG chunk holding byte ``offset`` starts (its length field) and ends (after its CRC);
    None when ``data`` is not a PNG or no whole chunk holds it."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    position = 8
    while position + 12 <= len(data):
        end = position + 12 + int.from_bytes(data[position : position + 4], "big")
        if position <= offset < end <= len(data):
            return position, end
        position = end
    return None


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


#: An IIM dataset's tag: (record, dataset number), 2:5 for Object Name.
IimTag = tuple[int, int]
#: The Photoshop resources that hold the IIM block and the MD5 digest of it (IPTCDigest).
_IRB_IIM, _IRB_IIM_DIGEST = 0x0404, 0x0425
_MAX_APP13_DATA = 0xFFFF - 2 - len(JPEG_PHOTOSHOP[1])


def photoshop_resources(block: bytes) -> list[tuple[int, bytes, bytes]] | None:
    """(id, header up to the data size, data) for each ``8BIM`` resource of an image resource block; None when
    the block is damaged. Zero bytes after the last resource (padding some writers leave) are not a resource."""
    resources: list[tuple[int, bytes, bytes]] = []
    position = 0
    while position < len(block):
        if block[position : position + 4] != b"8BIM":
            return resources if not block[position:].strip(b"\0") else None
        if position + 7 > len(block):
            return None
        size_at = position + 6 + ((block[position + 6] + 2) & ~1)  # after the name: a Pascal string, even length
        start = size_at + 4
        if start > len(block):
            return None
        end = start + int.from_bytes(block[size_at:start], "big")
        if end > len(block):
            return None
        rid = int.from_bytes(block[position + 4 : position + 6], "big")
        resources.append((rid, block[position:size_at], block[start:end]))
        position = end + (end - start) % 2
    return resources


def iim_datasets(block: bytes) -> list[tuple[IimTag, bytes]] | None:
    """(tag, whole dataset) for each IIM dataset of a block, in order; None when the block is damaged."""
    datasets: list[tuple[IimTag, bytes]] = []
    position = 0
    while position < len(block):
        if block[position] != 0x1C:
            return datasets if not block[position:].strip(b"\0") else None
        if position + 5 > len(block):
            return None
        size, start = int.from_bytes(block[position + 3 : position + 5], "big"), position + 5
        if size & 0x8000:  # extended dataset: the size is in the next (size & 0x7FFF) bytes
            start += size & 0x7FFF
            size = int.from_bytes(block[position + 5 : start], "big")
        end = start + size
        if end > len(block):
            return None
        datasets.append(((block[position + 1], block[position + 2]), block[position:end]))
        position = end
    return datasets


def merge_iim(original: bytes, edited: bytes, changed: Collection[IimTag]) -> bytes | None:
    """``original``'s IIM datasets byte for byte, but those tagged ``changed``: each as in ``edited`` (gone
    where ``edited`` has none), in the place of the first of its kind, or if new before the first dataset
    of a higher tag. None when either block cannot be read."""
    old, new = iim_datasets(original), iim_datasets(edited)
    if old is None or new is None:
        return None
    present = {tag for tag, _ in old}
    added = sorted(set(changed) - present)
    out: list[bytes] = []
    placed: set[IimTag] = set()

    def place(tag: IimTag) -> None:
        out.extend(raw for t, raw in new if t == tag)
        placed.add(tag)

    for tag, raw in old:
        for new_tag in added:
            if new_tag < tag and new_tag not in placed:
                place(new_tag)
        if tag not in changed:
            out.append(raw)
        elif tag not in placed:
            place(tag)
    for new_tag in added:
        if new_tag not in placed:
            place(new_tag)
    return b"".join(out)


def merge_photoshop_iim(original: bytes, edited: bytes, changed: Collection[IimTag]) -> bytes | None:
    """``original`` (an image resource block) with its IIM resource merged from ``edited``'s (``merge_iim``);
    every other resource byte for byte, but the IPTCDigest, which is brought up to date where it was
    current or there was no IIM for it to be out of date with (as ExifTool does: a stale digest tells
    readers the XMP may be out of sync with the IIM, and stays so).
    None when either block cannot be read."""
    before, after = photoshop_resources(original), photoshop_resources(edited)
    if before is None or after is None:
        return None
    old_iim = next((data for rid, _, data in before if rid == _IRB_IIM), b"")
    new_iim = next((data for rid, _, data in after if rid == _IRB_IIM), b"")
    iim = merge_iim(old_iim, new_iim, changed)
    if iim is None:
        return None
    old_digest = hashlib.md5(old_iim).digest()
    digest_current = not old_iim or any(rid == _IRB_IIM_DIGEST and data == old_digest for rid, _, data in before)
    resources = [(rid, header, data) for rid, header, data in before if rid != _IRB_IIM or iim]
    if iim and not any(rid == _IRB_IIM for rid, _, _ in before):
        resources.insert(0, next((rid, header, iim) for rid, header, _ in after if rid == _IRB_IIM))
    out = []
    for rid, header, data in resources:
        if rid == _IRB_IIM:
            data = iim
        elif rid == _IRB_IIM_DIGEST and digest_current:
            data = hashlib.md5(iim).digest()
        out.append(header + len(data).to_bytes(4, "big") + data + b"\0" * (len(data) % 2))
    return b"".join(out)


def _app13(segments: list[tuple[int, bytes]]) -> bytes:
    """The image resource block of ``segments``' Photoshop segments (a large one spans several)."""
    return b"".join(s[4 + len(JPEG_PHOTOSHOP[1]) :] for m, s in segments if _is((m, s), JPEG_PHOTOSHOP))


def _app13_segments(block: bytes) -> list[tuple[int, bytes]]:
    parts = [block[i : i + _MAX_APP13_DATA] for i in range(0, len(block), _MAX_APP13_DATA)]
    body = [JPEG_PHOTOSHOP[1] + part for part in parts]
    return [(JPEG_PHOTOSHOP[0], b"\xff\xed" + (2 + len(b)).to_bytes(2, "big") + b) for b in body]


def splice_jpeg_carriers(original: bytes, edited: bytes, iim_changed: Collection[IimTag] | None = None) -> bytes | None:
    """``original`` with its XMP and Photoshop segments replaced by those of ``edited``; every other
    segment (Exif, ICC, JUMBF, comments...) kept byte for byte. None when either layout is not plain.

    exiv2 re-encodes Exif whenever it writes a JPEG, and drops IFD0 entries it holds misplaced there
    (``PhotometricInterpretation`` of many cameras), so only the segments it was asked to change are taken.
    It also writes the whole IIM block anew (a time gains a zone it never had): given ``iim_changed``, the
    Photoshop segments are the original's with only those IIM datasets taken from ``edited``
    (``merge_photoshop_iim``). A carrier the original lacks goes after its leading APPn segments.
    """
    before, after = jpeg_segments(original), jpeg_segments(edited)
    if before is None or after is None:
        return None
    kinds = (JPEG_XMP, JPEG_PHOTOSHOP)
    new = {kind: [s for s in after if _is(s, kind)] for kind in kinds}
    if iim_changed is not None and any(_is(s, JPEG_PHOTOSHOP) for s in before):
        merged = merge_photoshop_iim(_app13(before), _app13(after), iim_changed)
        if merged is not None:
            new[JPEG_PHOTOSHOP] = _app13_segments(merged) if merged else []
    out: list[bytes] = []
    placed: set[tuple[int, bytes]] = set()
    for segment in before:
        kind = next((k for k in kinds if _is(segment, k)), None)
        if kind is None and not 0xE0 <= segment[0] <= 0xEF and len(placed) < len(kinds):
            for missing in kinds:  # a carrier the original lacked: after its leading APPn segments
                if missing not in placed:
                    out += [s for _, s in new[missing]]
                    placed.add(missing)
        if kind is None:
            out.append(segment[1])
        elif kind not in placed:
            out += [s for _, s in new[kind]]
            placed.add(kind)
    return b"\xff\xd8" + b"".join(out)


#: The first IFD's tag for an IPTC IIM block, and the sizes of the types it is stored as.
_TIFF_IIM = 33723
_TIFF_BYTES = {1: 1, 2: 1, 4: 4, 7: 1}  # BYTE, ASCII, LONG, UNDEFINED


def _tiff_first_ifd_entry(data: bytes, tag: int) -> tuple[int, int, int] | None:
    """(where the entry is, how many bytes its value has, where they are) for ``tag`` in a classic TIFF's
    first IFD; None when there is no such entry or it cannot be read."""
    order = tiff_byte_order(data[:4])
    if order is None:
        return None
    ifd = int.from_bytes(data[4:8], order)
    for entry in range(ifd + 2, ifd + 2 + 12 * int.from_bytes(data[ifd : ifd + 2], order), 12):
        if entry + 12 > len(data):
            return None
        if int.from_bytes(data[entry : entry + 2], order) == tag:
            width = _TIFF_BYTES.get(int.from_bytes(data[entry + 2 : entry + 4], order))
            if width is None:
                return None
            length = width * int.from_bytes(data[entry + 4 : entry + 8], order)
            offset = entry + 8 if length <= 4 else int.from_bytes(data[entry + 8 : entry + 12], order)
            return (entry, length, offset) if offset + length <= len(data) else None
    return None


def splice_tiff_iim(original: bytes, edited: bytes, iim_changed: Collection[IimTag]) -> bytes | None:
    """``edited`` (exiv2's rewrite of the TIFF ``original``) with the IIM block of its first IFD merged from
    the original's (``merge_iim``): exiv2 writes every dataset anew there too. A block that no longer fits
    its place goes at the end of the file. None when either file has no IIM block that can be read."""
    old, new = _tiff_first_ifd_entry(original, _TIFF_IIM), _tiff_first_ifd_entry(edited, _TIFF_IIM)
    order = tiff_byte_order(edited[:4])
    if old is None or new is None or order is None:
        return None
    entry, length, offset = new
    merged = merge_iim(original[old[2] : old[2] + old[1]], edited[offset : offset + length], iim_changed)
    if merged is None:
        return None
    merged += b"\0" * (-len(merged) % 4)  # stored as LONGs, as exiv2 writes it
    out = bytearray(edited)
    if len(merged) > length:
        out += b"\0" * (len(out) % 2)
        offset = len(out)
        out += merged
    else:
        out[offset : offset + len(merged)] = merged
    out[entry + 2 : entry + 12] = (
        (4).to_bytes(2, order) + (len(merged) // 4).to_bytes(4, order) + offset.to_bytes(4, order)
    )
    return bytes(out)
