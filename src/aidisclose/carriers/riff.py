"""WAV / BWF: the XMP packet in a ``_PMX`` chunk and copyright in ``LIST/INFO``, by our own RIFF writer.

Every chunk the file has (``fmt``, ``bext``, ``iXML``, ``data``, unknown ones)
is kept in order, byte for byte; ``_PMX`` and ``LIST/INFO`` are replaced where
they stand, or appended when new. Sizes are checked on read: a chunk that
claims more bytes than the file has is refused, not guessed at.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import DisclosureError
from .base import CarrierChanges, CarrierValues, Stored, hash_ranges, text_list
from .exiv2 import edit_packet, read_packet
from .xmp import XMP
from .xmpguard import MAX_PACKET_BYTES

RIFF_INFO = "riff-info"
XMP_CHUNK = b"_PMX"


@dataclass(frozen=True)
class Chunk:
    fourcc: bytes
    offset: int  # of the chunk header
    size: int  # of the payload, as the header says

    @property
    def payload(self) -> int:
        return self.offset + 8

    @property
    def end(self) -> int:
        """Offset after the payload and its pad byte."""
        return self.payload + self.size + (self.size & 1)


def read_chunks(path: Path) -> list[Chunk]:
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(12)
        if head[:4] == b"RF64":
            raise DisclosureError(path, "is an RF64 (over 4 GiB) WAV, which aidisclose cannot write yet")
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise DisclosureError(path, "is not a RIFF/WAVE file")
        riff_end = 8 + struct.unpack("<I", head[4:8])[0]
        if riff_end > size + 1:  # one missing final pad byte is common and harmless
            raise DisclosureError(
                path, f"its RIFF header claims {riff_end} bytes but the file has {size}; the file is truncated"
            )
        chunks: list[Chunk] = []
        position = 12
        while position + 8 <= min(riff_end, size):
            handle.seek(position)
            fourcc, length = struct.unpack("<4sI", handle.read(8))
            chunk = Chunk(fourcc, position, length)
            if chunk.payload + length > size:
                name = fourcc.decode("latin-1")
                raise DisclosureError(
                    path,
                    f"chunk '{name}' at byte {position} claims {length} bytes but only "
                    f"{size - chunk.payload} remain; the file is truncated or the size is wrong",
                )
            chunks.append(chunk)
            position = chunk.end
    names = {c.fourcc for c in chunks}
    if b"fmt " not in names or b"data" not in names:
        raise DisclosureError(path, "has no 'fmt ' or 'data' chunk; it is not playable audio")
    return chunks


def _read_payload(path: Path, chunk: Chunk, limit: int | None = None) -> bytes:
    """The chunk's payload, or its first ``limit`` bytes; a metadata chunk over the packet limit is refused."""
    if limit is None and chunk.size > MAX_PACKET_BYTES:
        name = chunk.fourcc.decode("latin-1")
        raise DisclosureError(path, f"its '{name}' chunk at {chunk.offset} is {chunk.size:,} bytes; refused unread")
    with open(path, "rb") as handle:
        handle.seek(chunk.payload)
        return handle.read(chunk.size if limit is None else min(limit, chunk.size))


def _xmp_packet(path: Path, chunks: list[Chunk]) -> bytes | None:
    pmx = next((c for c in chunks if c.fourcc == XMP_CHUNK), None)
    return _read_payload(path, pmx).rstrip(b"\0") if pmx else None


def parse_info(payload: bytes) -> list[tuple[bytes, bytes]] | None:
    """The sub-chunks of a ``LIST`` payload of type ``INFO`` (None for other LIST types)."""
    if payload[:4] != b"INFO":
        return None
    entries, position = [], 4
    while position + 8 <= len(payload):
        fourcc, length = struct.unpack("<4sI", payload[position : position + 8])
        entries.append((fourcc, payload[position + 8 : position + 8 + length]))
        position += 8 + length + (length & 1)
    return entries


def _chunk_bytes(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def _info_text(value: bytes) -> str:
    return value.rstrip(b"\0").decode("utf-8", errors="replace")


def _find_info(path: Path, chunks: list[Chunk]) -> tuple[Chunk | None, list[tuple[bytes, bytes]]]:
    for chunk in chunks:
        if chunk.fourcc == b"LIST" and _read_payload(path, chunk, limit=4) == b"INFO":
            entries = parse_info(_read_payload(path, chunk))
            if entries is not None:
                return chunk, entries
    return None, []


class RiffWaveStore:
    carriers: tuple[str, ...] = (XMP, RIFF_INFO)

    def read(self, path: Path) -> CarrierValues:
        chunks = read_chunks(path)
        packet = _xmp_packet(path, chunks)
        _, entries = _find_info(path, chunks)
        info: dict[str, Stored] = {fourcc.decode("latin-1"): _info_text(v) for fourcc, v in entries}
        return {XMP: read_packet(packet, path), RIFF_INFO: info}

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        chunks = read_chunks(source)
        replacements: dict[int, bytes] = {}  # chunk offset -> new chunk bytes
        appended: list[bytes] = []
        if changes.get(XMP):
            pmx = next((c for c in chunks if c.fourcc == XMP_CHUNK), None)
            packet = edit_packet(_xmp_packet(source, chunks), source, changes)
            new = _chunk_bytes(XMP_CHUNK, packet)
            if pmx:
                replacements[pmx.offset] = new
            else:
                appended.append(new)
        if changes.get(RIFF_INFO):
            info_chunk, entries = _find_info(source, chunks)
            wanted = dict(entries)
            for key, value in changes[RIFF_INFO].items():
                fourcc = key.encode("latin-1")
                if value is None:
                    wanted.pop(fourcc, None)
                else:
                    wanted[fourcc] = text_list(value)[0].encode("utf-8") + b"\0"
            payload = b"INFO" + b"".join(_chunk_bytes(k, v) for k, v in wanted.items())
            new = _chunk_bytes(b"LIST", payload)
            if info_chunk:
                replacements[info_chunk.offset] = new
            else:
                appended.append(new)
        with open(source, "rb") as src, open(target, "wb") as out:
            out.write(src.read(12))
            for chunk in chunks:
                if chunk.offset in replacements:
                    out.write(replacements[chunk.offset])
                    continue
                _copy_range(src, out, chunk.offset, chunk.end - chunk.offset)
            for new in appended:
                out.write(new)
            total = out.tell()
            out.seek(4)
            out.write(struct.pack("<I", total - 8))

    def essence_digest(self, path: Path) -> str:
        chunks = read_chunks(path)
        ranges = [(c.payload, c.size) for c in chunks if c.fourcc in (b"fmt ", b"data")]
        return hash_ranges(path, ranges, b"riff-wave")


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
