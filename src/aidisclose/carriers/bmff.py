"""MP4, MOV, M4V (ISO BMFF / QuickTime): the XMP packet in a top-level ``uuid`` box, in O(metadata).

Nothing before the file's original end is rewritten except 4-byte box types
(and the size of a last box that ran "to end of file"), so no media moves and
no ``stco``/``co64`` offset changes. The edit is crash-safe by order:

1. write the new XMP box where no reader looks yet: appended at the end, or
   into the payload of a retired XMP box (still typed ``free``); fsync;
2. make it live with one 4-byte write (``free`` -> ``uuid``) when reusing; fsync;
3. retire the old XMP box(es) by rewriting their type to ``free``; fsync.

Readers take the first XMP box in file order, so a process killed at any
point leaves a file that plays and reads as the old or the new record. Before
the first write, a rollback journal beside the file keeps the old bytes of every
range that will be overwritten and the old size: on any error they are put back
and the file is truncated to its old size; after a kill the next stamp does it.
Two slots take turns, so stamping again and again does not grow the file.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Callable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ClassVar

from ..containers.bmff import Box, box, nested_boxes, read_boxes, top_level_boxes
from ..errors import DisclosureError
from ..safewrite import RollbackJournal
from .base import Carrier, CarrierChanges, CarrierValues, MetadataStore, Stored, WriteMode, hash_ranges, text_list
from .exiv2 import edit_packet, read_packet
from .ilst import FREEFORM, read_items, rebuild_moov_payload
from .tags import tag_writes, unpack_record
from .xmpguard import check_packet_size

RECORD_ATOM = FREEFORM + "RECORD"
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
#: Room left in a new packet so a later, slightly larger record fits the same slot.
XMP_PADDING = 2048
_PACKET_END = b'<?xpacket end="w"?>'


def check_structure(path: Path) -> list[Box]:
    """Top-level boxes, after walking every container box (bounded depth) to check sizes nest."""
    boxes = top_level_boxes(path)
    with open(path, "rb") as handle:
        for _ in nested_boxes(handle, boxes, path):
            pass
    if not any(b.kind in (b"moov", b"moof") for b in boxes):
        raise DisclosureError(path, "has no 'moov' box; it is not a playable MP4/MOV")
    return boxes


def _payload_starts_with_xmp(handle: BinaryIO, box: Box) -> bool:
    handle.seek(box.payload)
    return box.size - box.header >= 16 and handle.read(16) == XMP_UUID


def _legacy_xmp_boxes(handle: BinaryIO, boxes: list[Box], path: Path) -> list[Box]:
    """QuickTime's older place for XMP: ``moov/udta/XMP_``."""
    found = []
    for moov in (b for b in boxes if b.kind == b"moov"):
        for udta in (b for b in read_boxes(handle, moov.payload, moov.end, path) if b.kind == b"udta"):
            found += [b for b in read_boxes(handle, udta.payload, udta.end, path) if b.kind == b"XMP_"]
    return found


@dataclass(frozen=True)
class XmpLayout:
    live: list[tuple[Box, int]]  # (box, offset of its packet): uuid boxes first, then moov/udta/XMP_
    spare: list[Box]  # retired XMP boxes (type free, payload still starts with the XMP UUID)


def xmp_layout(path: Path, boxes: list[Box]) -> XmpLayout:
    live: list[tuple[Box, int]] = []
    spare: list[Box] = []
    with open(path, "rb") as handle:
        for box in boxes:
            if box.kind in (b"uuid", b"free") and _payload_starts_with_xmp(handle, box):
                if box.kind == b"uuid":
                    live.append((box, box.payload + 16))
                else:
                    spare.append(box)
        live += [(box, box.payload) for box in _legacy_xmp_boxes(handle, boxes, path)]
    return XmpLayout(live, spare)


def _read_range(path: Path, offset: int, end: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(end - offset)


def _live_packet(path: Path, layout: XmpLayout) -> bytes:
    """The packet of the first live XMP box (refused unread when it is over the packet limit)."""
    live_box, start = layout.live[0]
    check_packet_size(live_box.end - start, path)
    return _read_range(path, start, live_box.end).rstrip(b"\0 \n")


def _pad_packet(packet: bytes, size: int) -> bytes:
    """``packet`` grown to exactly ``size`` bytes with XMP padding (whitespace before the trailer)."""
    missing = size - len(packet)
    if missing < 0:
        raise ValueError("packet does not fit")
    if not missing:
        return packet
    cut = packet.rfind(b"<?xpacket end=")
    if cut < 0:
        return packet + b" " * missing
    filler = (b" " * 99 + b"\n") * (missing // 100) + b" " * (missing % 100)
    return packet[:cut] + filler + packet[cut:]


def _close_open_ended_box(edit: _Edit, last: Box, path: Path) -> None:
    """Give a last box of size 0 ("to end of file") its explicit size, so appended boxes are not swallowed."""
    if last.to_end:
        if last.header != 8 or last.size > 0xFFFFFFFF:
            raise DisclosureError(path, "its last box runs to the end of the file and is too big to close")
        edit.overwrite(last.offset, struct.pack(">I", last.size))


class _Edit:
    """Writes to a file, remembering the (offset, length) of each for the essence check."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.written: list[tuple[int, int]] = []

    def overwrite(self, offset: int, data: bytes) -> None:
        self.handle.seek(offset)
        self.handle.write(data)
        self.written.append((offset, len(data)))

    def append(self, data: bytes) -> int:
        offset = self.handle.seek(0, os.SEEK_END)
        self.handle.write(data)
        self.written.append((offset, len(data)))
        return offset

    def sync(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())


def _first_moov(boxes: list[Box]) -> Box | None:
    return next((b for b in boxes if b.kind == b"moov"), None)


def moov_is_movable(boxes: list[Box]) -> bool:
    """A new moov may be appended only when the old one is already after all media and nothing is fragmented.

    Moving a moov that sits before the media would undo 'faststart' (progressive playback).
    """
    moov = _first_moov(boxes)
    media = [b.offset for b in boxes if b.kind == b"mdat"]
    fragmented = any(b.kind == b"moof" for b in boxes)
    return moov is not None and not fragmented and all(offset < moov.offset for offset in media)


class BmffStore(MetadataStore):
    """MP4/MOV/M4V/M4A: XMP in the top-level uuid box and iTunes items in moov, edited where they stand."""

    carriers = (Carrier.XMP, Carrier.MP4_TAGS)
    write_mode: ClassVar[WriteMode] = WriteMode.IN_PLACE

    def writable_carriers(self, path: Path) -> tuple[Carrier, ...]:
        """Both carriers, or XMP alone when the moov cannot move without undoing faststart."""
        return self.carriers if moov_is_movable(check_structure(path)) else (Carrier.XMP,)

    def read(self, path: Path) -> CarrierValues:
        boxes = check_structure(path)
        layout = xmp_layout(path, boxes)
        values: CarrierValues = {Carrier.XMP: {}, Carrier.MP4_TAGS: {}}
        if layout.live:
            values[Carrier.XMP] = read_packet(_live_packet(path, layout), path)
        moov = _first_moov(boxes)
        if moov is not None:
            for key, items in read_items(_read_range(path, moov.payload, moov.end)).items():
                if key == RECORD_ATOM:
                    values[Carrier.MP4_TAGS].update(unpack_record(text_list(items)[0] if items else None))
                else:
                    values[Carrier.MP4_TAGS][key] = items
        return values

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        """A stamped copy: the file is copied (shutil lets the kernel do it), then edited in place."""
        shutil.copyfile(source, target)
        self._edit(target, changes, lambda _path: None, journaled=False)

    def edit_in_place(
        self, path: Path, changes: CarrierChanges, check: Callable[[Path], None]
    ) -> list[tuple[int, int]]:
        """Apply ``changes`` crash-safely; ``check(path)`` runs once the new boxes are live.

        Returns the (offset, length) ranges that were written.
        """
        return self._edit(path, changes, check, journaled=True)

    def _edit(
        self, path: Path, changes: CarrierChanges, check: Callable[[Path], None], journaled: bool
    ) -> list[tuple[int, int]]:
        """``journaled=False`` is for a temp copy that is thrown away on failure: no rollback journal."""
        boxes = check_structure(path)
        layout = xmp_layout(path, boxes)
        media = [(b.payload, b.end) for b in boxes if b.kind == b"mdat"]
        packet = edit_packet(_live_packet(path, layout) if layout.live else None, path, changes)
        new_moov, old_moov = self._new_moov(path, boxes, changes.get(Carrier.MP4_TAGS, {}))
        needed = 8 + 16 + len(packet)
        slot = next((s for s in layout.spare if s.header == 8 and s.size >= needed), None)
        retired = [old for old, _ in layout.live] + ([old_moov] if old_moov is not None else [])
        last = boxes[-1]
        # Every byte before the old end that may be overwritten; the journal keeps it until the edit is done.
        ranges = [(old.offset + 4, 4) for old in retired]
        if slot is not None:
            ranges += [(slot.payload + 16, slot.size - 24), (slot.offset + 4, 4)]
        elif last.to_end:
            ranges.append((last.offset, 4))
        with open(path, "r+b") as handle, RollbackJournal(path, handle, ranges) if journaled else nullcontext():
            edit = _Edit(handle)
            # 1. Write what no reader looks at yet: a retired XMP box's payload, or past the end.
            if slot is not None:
                edit.overwrite(slot.payload + 16, _pad_packet(packet, slot.size - 24))
            else:
                _close_open_ended_box(edit, last, path)
                body = XMP_UUID + _pad_packet(packet, len(packet) + XMP_PADDING)
                edit.append(box(b"uuid", body))
            if new_moov is not None:
                edit.append(new_moov)
            edit.sync()
            # 2. Switch: the reused slot goes live, old boxes are retired (4-byte type writes).
            if slot is not None:
                edit.overwrite(slot.offset + 4, b"uuid")
            for old in retired:
                edit.overwrite(old.offset + 4, b"free")
            touched = list(overlaps(edit.written, media))
            if touched:  # cannot happen by construction; refuse rather than trust it
                raise DisclosureError(path, f"an edit would touch media bytes at {touched[0][0]}; nothing was written")
            edit.sync()
            check(path)
        return edit.written

    def _new_moov(
        self, path: Path, boxes: list[Box], changes: Mapping[str, Stored | None]
    ) -> tuple[bytes | None, Box | None]:
        """The rebuilt moov box to append and the old one it replaces, or (None, None) when no item changes."""
        moov = _first_moov(boxes)
        if not changes or moov is None:
            return None, None
        if not moov_is_movable(boxes):
            raise DisclosureError(path, "its moov box is before the media; item tags cannot be written in place")
        payload = _read_range(path, moov.payload, moov.end)
        current = read_items(payload).get(RECORD_ATOM)
        writes = tag_writes(changes, text_list(current)[0] if current else None, RECORD_ATOM)
        return box(b"moov", rebuild_moov_payload(payload, writes)), moov

    def essence_digest(self, path: Path) -> str:
        """SHA-256 over every top-level ``mdat`` payload (the whole media: O(file))."""
        return media_box_digest(path)


def overlaps(written: list[tuple[int, int]], protected: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """Written (offset, length) ranges that fall inside any protected [start, end) range."""
    for offset, length in written:
        for start, end in protected:
            if offset < end and start < offset + length:
                yield offset, length


def media_box_digest(path: Path, kinds: tuple[bytes, ...] = (b"mdat",)) -> str:
    """SHA-256 over the payloads of the top-level boxes of ``kinds``: the media, which no metadata edit moves.

    MP4/MOV and the HEIF family (HEIC, HEIF, AVIF) keep it in ``mdat``; the C2PA SDK adds a box and
    moves nothing in it.
    """
    ranges = [(b.payload, b.size - b.header) for b in top_level_boxes(path) if b.kind in kinds]
    if not ranges:
        names = "/".join(f"'{k.decode('latin-1')}'" for k in kinds)
        raise DisclosureError(path, f"has no {names} box; there is no media in it")
    return hash_ranges(path, ranges, b"bmff-" + b"-".join(kinds))


def jxl_essence(path: Path) -> str:
    """A JPEG XL container: its codestream boxes, whole (``jxlc``) or in parts (``jxlp``)."""
    return media_box_digest(path, (b"jxlc", b"jxlp"))
