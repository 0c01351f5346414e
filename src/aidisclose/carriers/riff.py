"""WAV / BWF and AVI: the XMP packet in a ``_PMX`` chunk and copyright in ``LIST/INFO``, by our own RIFF writer.

Every chunk the file has (``fmt``, ``bext``, ``iXML``, ``data``, ``hdrl``,
``movi``, ``idx1``, unknown ones) is kept in order, byte for byte; ``_PMX``
and ``LIST/INFO`` are replaced where they stand, or appended when new. Sizes
are checked on read: a chunk that claims more bytes than the file has is
refused, not guessed at. AVI's index holds offsets relative to ``movi``, so
appending after it moves nothing it points at.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

from ..containers.riff import Chunk, Form, chunk_bytes, list_entries, read_form, read_payload
from ..errors import DisclosureError
from .base import Carrier, CarrierChanges, CarrierValues, MetadataStore, Stored, hash_ranges, text_list
from .exiv2 import edit_packet, read_packet
from .xmpguard import MAX_PACKET_BYTES

XMP_CHUNK = b"_PMX"


def _read_metadata_payload(path: Path, chunk: Chunk) -> bytes:
    """A metadata chunk's payload; one over the packet limit is refused unread."""
    if chunk.size > MAX_PACKET_BYTES:
        name = chunk.fourcc.decode("latin-1")
        raise DisclosureError(path, f"its '{name}' chunk at {chunk.offset} is {chunk.size:,} bytes; refused unread")
    return read_payload(path, chunk)


def _xmp_packet(path: Path, form: Form) -> bytes | None:
    pmx = form.first(XMP_CHUNK)
    return _read_metadata_payload(path, pmx).rstrip(b"\0") if pmx else None


def _info_text(value: bytes) -> str:
    return value.rstrip(b"\0").decode("utf-8", errors="replace")


def _find_info(path: Path, form: Form) -> tuple[Chunk | None, list[tuple[bytes, bytes]]]:
    for chunk in form.chunks:
        if chunk.list_type == b"INFO":
            return chunk, list_entries(_read_metadata_payload(path, chunk))
    return None, []


class RiffStore(MetadataStore):
    """One RIFF form (``WAVE``, ``AVI ``): which chunks must be there, and which hold the essence.

    ``essence`` names chunks by fourcc, or ``LIST`` chunks by their list type (``hdrl``, ``movi``).
    """

    carriers = (Carrier.XMP, Carrier.RIFF_INFO)

    def __init__(self, kind: bytes, essence: tuple[bytes, ...], what: str, offsets_after_form: bool = False) -> None:
        self.kind = kind
        self.essence = essence
        self.what = what  # for refusals: "playable audio", "a playable AVI"
        #: Data after the first form may be addressed by absolute offsets (OpenDML AVI's AVIX lists):
        #: growing the form would move it, so such a file is refused rather than broken.
        self.offsets_after_form = offsets_after_form

    def _form(self, path: Path) -> Form:
        form = read_form(path)
        if form.magic != b"RIFF" or form.kind != self.kind:
            raise DisclosureError(path, f"is not a RIFF/{self.kind.decode().strip()} file")
        found = {c.name for c in form.chunks}
        missing = [name.decode("latin-1") for name in self.essence if name not in found]
        if missing:
            raise DisclosureError(path, f"has no '{missing[0]}' chunk; it is not {self.what}")
        return form

    def read(self, path: Path) -> CarrierValues:
        form = self._form(path)
        packet = _xmp_packet(path, form)
        _, entries = _find_info(path, form)
        info: dict[str, Stored] = {fourcc.decode("latin-1"): _info_text(v) for fourcc, v in entries}
        return {Carrier.XMP: read_packet(packet, path), Carrier.RIFF_INFO: info}

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        form = self._form(source)
        size = source.stat().st_size
        form_end = max(form.end, form.chunks[-1].end if form.chunks else 12)  # a chunk may overhang a short size
        trailing = size - form_end if size > form_end + 1 else 0
        if trailing and self.offsets_after_form:
            raise DisclosureError(
                source, f"has {trailing:,} bytes after its first RIFF list (an OpenDML file over 1 GiB?); "
                "aidisclose cannot add chunks to it without moving them",
            )
        replacements: dict[int, bytes] = {}  # chunk offset -> new chunk bytes
        appended: list[bytes] = []
        if changes.get(Carrier.XMP):
            pmx = form.first(XMP_CHUNK)
            new = chunk_bytes(XMP_CHUNK, edit_packet(_xmp_packet(source, form), source, changes))
            if pmx:
                replacements[pmx.offset] = new
            else:
                appended.append(new)
        if changes.get(Carrier.RIFF_INFO):
            info_chunk, entries = _find_info(source, form)
            wanted = dict(entries)
            for key, value in changes[Carrier.RIFF_INFO].items():
                fourcc = key.encode("latin-1")
                if value is None:
                    wanted.pop(fourcc, None)
                else:
                    wanted[fourcc] = text_list(value)[0].encode("utf-8") + b"\0"
            new = chunk_bytes(b"LIST", b"INFO" + b"".join(chunk_bytes(k, v) for k, v in wanted.items()))
            if info_chunk:
                replacements[info_chunk.offset] = new
            else:
                appended.append(new)
        with open(source, "rb") as src, open(target, "wb") as out:
            out.write(src.read(12))
            for chunk in form.chunks:
                if chunk.offset in replacements:
                    out.write(replacements[chunk.offset])
                    continue
                _copy_range(src, out, chunk.offset, chunk.end - chunk.offset)
            for new in appended:
                out.write(new)
            total = out.tell()
            if trailing:  # outside the form (a trailing tag): kept as it is, after it
                _copy_range(src, out, form_end, trailing)
            out.seek(4)
            out.write(struct.pack("<I", total - 8))

    def essence_digest(self, path: Path) -> str:
        form = self._form(path)
        ranges = [(c.payload, c.size) for c in form.chunks if c.name in self.essence]
        return hash_ranges(path, ranges, b"riff-" + self.kind.strip().lower())


def wave_store() -> RiffStore:
    return RiffStore(b"WAVE", (b"fmt ", b"data"), "playable audio")


def avi_store() -> RiffStore:
    return RiffStore(b"AVI ", (b"hdrl", b"movi"), "a playable AVI", offsets_after_form=True)


def _copy_range(src: BinaryIO, out: BinaryIO, offset: int, length: int) -> None:
    """Copy ``length`` bytes from ``offset``; a final chunk missing its pad byte gets one."""
    src.seek(offset)
    left = length
    while left > 0:
        block = src.read(min(left, 1 << 20))
        if not block:
            out.write(b"\0" * left)  # only the pad byte can be missing (checked on read)
            return
        out.write(block)
        left -= len(block)
