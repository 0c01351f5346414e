"""MP4, MOV, M4V (ISO BMFF / QuickTime): the XMP packet in a top-level ``uuid`` box, in O(metadata).

Nothing before the file's original end is rewritten except box headers and
the payloads of retired (``free``) boxes, so no media moves and no
``stco``/``co64`` offset changes. The edit is crash-safe by order:

1. write the new boxes where no reader looks yet: appended at the end, or
   into the payload of a retired box (still typed ``free``); fsync;
2. make them live with one header write each (``free`` -> ``uuid``/``moov``)
   when reusing, and retire the old ones by rewriting their type to ``free``; fsync.

Readers take the first XMP box and the first moov in file order, so a process
killed at any point leaves a file that plays and reads as the old or the new
record. Every write is planned before the first is made; a rollback journal
beside the file keeps the old and new bytes of every range that will be
overwritten and the old size: on any error the old bytes are put back and the
file is truncated to its old size; after a kill the next stamp does it. Retired
boxes are reused (XMP slots take turns; a rebuilt moov takes a retired one it
fits), so stamping again and again does not grow the file after the second time.
"""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Callable, Iterator, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
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
#: Free room after an appended moov, for a later one a little larger (a longer record) to take its place.
MOOV_PADDING = 4096
_PACKET_END = b'<?xpacket end="w"?>'


def check_structure(path: Path) -> list[Box]:
    """Top-level boxes, after walking every container box (bounded depth) to check sizes nest."""
    with open(path, "rb") as handle:
        return _checked_structure(handle, path)


def _checked_structure(handle: BinaryIO, path: Path) -> list[Box]:
    boxes = read_boxes(handle, 0, os.fstat(handle.fileno()).st_size, path)
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
    with open(path, "rb") as handle:
        return _xmp_layout(handle, boxes, path)


def _xmp_layout(handle: BinaryIO, boxes: list[Box], path: Path) -> XmpLayout:
    live: list[tuple[Box, int]] = []
    spare: list[Box] = []
    for found in boxes:
        if found.kind in (b"uuid", b"free") and _payload_starts_with_xmp(handle, found):
            if found.kind == b"uuid":
                live.append((found, found.payload + 16))
            else:
                spare.append(found)
    live += [(found, found.payload) for found in _legacy_xmp_boxes(handle, boxes, path)]
    return XmpLayout(live, spare)


def _read_range(handle: BinaryIO, offset: int, end: int) -> bytes:
    handle.seek(offset)
    return handle.read(end - offset)


def _live_packet(handle: BinaryIO, layout: XmpLayout, path: Path) -> bytes:
    """The packet of the first live XMP box (refused unread when it is over the packet limit)."""
    live_box, start = layout.live[0]
    check_packet_size(live_box.end - start, path)
    return _read_range(handle, start, live_box.end).rstrip(b"\0 \n")


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


def _closed_size(last: Box, path: Path) -> tuple[int, bytes]:
    """The write giving a last box of size 0 ("to end of file") its size, so appended boxes are not swallowed."""
    if last.header != 8 or last.size > 0xFFFFFFFF:
        raise DisclosureError(path, "its last box runs to the end of the file and is too big to close")
    return last.offset, struct.pack(">I", last.size)


@dataclass
class _EditPlan:
    """Every write of one edit, planned before the first: (offset, bytes) in the order they are made.

    ``hidden`` writes change nothing a reader looks at (a retired box's payload, bytes past the
    old end); ``switch`` writes are the 4-byte type changes that make the new boxes live and
    retire the old ones. The rollback journal is made from the whole plan.
    """

    end: int
    path: Path
    #: A last box of size 0 ("to end of file"): given its size before anything is appended after it.
    open_ended: Box | None = None
    hidden: list[tuple[int, bytes]] = field(default_factory=list)
    switch: list[tuple[int, bytes]] = field(default_factory=list)

    def append(self, data: bytes) -> None:
        if self.open_ended is not None:
            self.hidden.append(_closed_size(self.open_ended, self.path))
            self.open_ended = None
        self.hidden.append((self.end, data))
        self.end += len(data)

    @property
    def writes(self) -> list[tuple[int, bytes]]:
        return self.hidden + self.switch


def _moov_slots(boxes: list[Box], layout: XmpLayout, used: set[int]) -> list[Box]:
    """Plain ``free`` boxes after the last media box: room a rebuilt moov may take (retired moovs among them).

    Only after the media, so a moov-last file stays moov-last; never a retired XMP box (kept for XMP).
    """
    last_media = max((b.offset for b in boxes if b.kind == b"mdat"), default=-1)
    return [b for b in boxes if _plain_free(b, layout, used) and b.offset > last_media]


def _plain_free(box: Box, layout: XmpLayout, used: set[int]) -> bool:
    """A top-level ``free`` box with an 8-byte header and a size, neither a retired XMP box nor taken by this edit."""
    reserved = box.offset in used or any(s.offset == box.offset for s in layout.spare)
    return box.kind == b"free" and box.header == 8 and not box.to_end and not reserved


def _place_moov(plan: _EditPlan, new_moov: bytes, slots: list[Box], used: set[int]) -> None:
    """The rebuilt moov into the smallest slot it fits (what is left of it stays ``free``), or appended.

    Into a slot, its payload is written while the slot is still ``free``; one 8-byte header write
    then makes it the moov. Appended, it is followed by MOOV_PADDING bytes of ``free``, which
    retiring it later takes in (:func:`_retire_moov`), so a slightly larger moov fits there next time.
    """
    fits = [s for s in slots if s.size == len(new_moov) or s.size >= len(new_moov) + 8]
    if not fits:
        plan.append(new_moov + box(b"free", bytes(MOOV_PADDING - 8)))
        return
    slot = min(fits, key=lambda s: s.size)
    used.add(slot.offset)
    rest = slot.size - len(new_moov)
    if rest:
        plan.hidden.append((slot.offset + len(new_moov), struct.pack(">I4s", rest, b"free")))
    plan.hidden.append((slot.offset + 8, new_moov[8:]))
    plan.switch.insert(0, (slot.offset, new_moov[:8]))


def _retire_moov(boxes: list[Box], moov: Box, layout: XmpLayout, used: set[int]) -> tuple[int, bytes]:
    """The one 8-byte write retiring ``moov`` as ``free``, taking in the plain free boxes right after it.

    One retired box rather than several small ones is room a later moov can use.
    """
    size = moov.size
    for after in boxes[boxes.index(moov) + 1 :]:
        if not _plain_free(after, layout, used):
            break
        if moov.header != 8 or size + after.size > 0xFFFFFFFF:
            break
        size += after.size
    if size == moov.size:
        return moov.offset + 4, b"free"
    return moov.offset, struct.pack(">I4s", size, b"free")


def _apply(fd: int, writes: list[tuple[int, bytes]]) -> None:
    """Unbuffered writes, then fsync: an error leaves nothing pending that a roll back would trip over."""
    for offset, data in writes:
        done = 0
        while done < len(data):  # a short write is followed by one that says why (a full disk: ENOSPC)
            done += os.pwrite(fd, data[done:], offset + done)
    os.fsync(fd)


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
        with open(path, "rb") as handle:  # one open for the structure, the XMP box and the moov
            boxes = _checked_structure(handle, path)
            layout = _xmp_layout(handle, boxes, path)
            packet = _live_packet(handle, layout, path) if layout.live else None
            moov = _first_moov(boxes)
            moov_payload = _read_range(handle, moov.payload, moov.end) if moov is not None else None
        values: CarrierValues = {Carrier.XMP: {}, Carrier.MP4_TAGS: {}}
        if packet is not None:
            values[Carrier.XMP] = read_packet(packet, path)
        if moov_payload is not None:
            for key, items in read_items(moov_payload).items():
                if key == RECORD_ATOM:
                    values[Carrier.MP4_TAGS].update(unpack_record(text_list(items)[0] if items else None))
                else:
                    values[Carrier.MP4_TAGS][key] = items
        return values

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        """A stamped copy: the file is copied (shutil lets the kernel do it), then edited in place."""
        shutil.copyfile(source, target)
        self._edit(target, changes, lambda _path: None, journaled=False)

    def copy_patches(self, source: Path, changes: CarrierChanges) -> list[tuple[int, bytes]]:
        """The writes, in order, that ``write`` makes into its copy of ``source`` (planned, none made).

        The stamped copy is ``source``'s bytes with these laid over them (past the end, they extend
        it): what a signer may read through ``signing.PatchedSource`` instead of a copy on disk.
        """
        return self._plan(source, changes).writes

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
        plan = self._plan(path, changes)
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            with RollbackJournal(path, fd, plan.writes) if journaled else nullcontext():
                _apply(fd, plan.hidden)
                _apply(fd, plan.switch)
                check(path)
        finally:
            os.close(fd)
        return [(offset, len(data)) for offset, data in plan.writes]

    def _plan(self, path: Path, changes: CarrierChanges) -> _EditPlan:
        """Every write of the edit of ``path`` that ``changes`` make, checked to touch no media byte."""
        with open(path, "rb") as handle:  # one open for the structure, the XMP box and the moov, as ``read``
            boxes = _checked_structure(handle, path)
            layout = _xmp_layout(handle, boxes, path)
            packet = edit_packet(_live_packet(handle, layout, path) if layout.live else None, path, changes)
            new_moov, old_moov = self._new_moov(handle, path, boxes, changes.get(Carrier.MP4_TAGS, {}))
        media = [(b.payload, b.end) for b in boxes if b.kind == b"mdat"]
        plan = _EditPlan(end=boxes[-1].end, path=path, open_ended=boxes[-1] if boxes[-1].to_end else None)
        used: set[int] = set()
        # 1. Write what no reader looks at yet: a retired box's payload, or past the end.
        slot = next((s for s in layout.spare if s.header == 8 and s.size >= 8 + 16 + len(packet)), None)
        if slot is not None:
            plan.hidden.append((slot.payload + 16, _pad_packet(packet, slot.size - 24)))
            plan.switch.append((slot.offset + 4, b"uuid"))
            used.add(slot.offset)
        else:
            plan.append(box(b"uuid", XMP_UUID + _pad_packet(packet, len(packet) + XMP_PADDING)))
        if new_moov is not None:
            _place_moov(plan, new_moov, _moov_slots(boxes, layout, used), used)
        # 2. Switch: the reused slots go live, the old boxes are retired (4-byte type writes).
        plan.switch += [(old.offset + 4, b"free") for old, _ in layout.live]
        if old_moov is not None:
            plan.switch.append(_retire_moov(boxes, old_moov, layout, used))
        touched = list(overlaps([(offset, len(data)) for offset, data in plan.writes], media))
        if touched:  # cannot happen by construction; refuse rather than trust it
            raise DisclosureError(path, f"an edit would touch media bytes at {touched[0][0]}; nothing was written")
        return plan

    def _new_moov(
        self, handle: BinaryIO, path: Path, boxes: list[Box], changes: Mapping[str, Stored | None]
    ) -> tuple[bytes | None, Box | None]:
        """The rebuilt moov box to append and the old one it replaces, or (None, None) when no item changes."""
        moov = _first_moov(boxes)
        if not changes or moov is None:
            return None, None
        if not moov_is_movable(boxes):
            raise DisclosureError(path, "its moov box is before the media; item tags cannot be written in place")
        payload = _read_range(handle, moov.payload, moov.end)
        current = read_items(payload).get(RECORD_ATOM)
        writes = tag_writes(changes, text_list(current)[0] if current else None, RECORD_ATOM)
        return box(b"moov", rebuild_moov_payload(payload, writes)), moov

    def essence_digest(self, path: Path) -> str:
        """SHA-256 over every top-level ``mdat`` payload (the whole media: O(file))."""
        return media_box_digest(path)

    def essence_ranges(self, path: Path) -> list[tuple[int, int]]:
        """Every top-level ``mdat`` payload, as ``essence_digest`` hashes them."""
        return media_box_ranges(path)


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
    return hash_ranges(path, media_box_ranges(path, kinds), b"bmff-" + b"-".join(kinds))


def media_box_ranges(path: Path, kinds: tuple[bytes, ...] = (b"mdat",)) -> list[tuple[int, int]]:
    """The (offset, length) payloads of the top-level boxes of ``kinds``; refused when there is none."""
    ranges = [(b.payload, b.size - b.header) for b in top_level_boxes(path) if b.kind in kinds]
    if not ranges:
        names = "/".join(f"'{k.decode('latin-1')}'" for k in kinds)
        raise DisclosureError(path, f"has no {names} box; there is no media in it")
    return ranges


def jxl_essence(path: Path) -> str:
    """A JPEG XL container: its codestream boxes, whole (``jxlc``) or in parts (``jxlp``)."""
    return media_box_digest(path, (b"jxlc", b"jxlp"))
