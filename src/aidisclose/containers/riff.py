"""RIFF (WAV, WebP, AVI; little-endian sizes) and IFF (AIFF; big-endian) chunks: walk them, and build one."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import DisclosureError


@dataclass(frozen=True)
class Chunk:
    fourcc: bytes
    offset: int  # of the chunk header
    size: int  # of the payload, as the header says
    list_type: bytes | None = None  # a LIST chunk's type (INFO, hdrl, movi), read with its header

    @property
    def name(self) -> bytes:
        """What the chunk is: its list type for a LIST, else its fourcc."""
        return self.list_type or self.fourcc

    @property
    def payload(self) -> int:
        return self.offset + 8

    @property
    def end(self) -> int:
        """Offset after the payload and its pad byte."""
        return self.payload + self.size + (self.size & 1)


@dataclass(frozen=True)
class Form:
    """A RIFF or IFF file: its form type (``WAVE``, ``AVI ``, ``AIFF``...) and its top-level chunks."""

    magic: bytes  # RIFF or FORM
    kind: bytes
    chunks: list[Chunk]
    end: int  # where the form ends, as its header says (the file may go on: another RIFF, a trailing tag)

    @property
    def little_endian(self) -> bool:
        return self.magic == b"RIFF"

    def first(self, fourcc: bytes) -> Chunk | None:
        return next((c for c in self.chunks if c.fourcc == fourcc), None)


def chunk_bytes(fourcc: bytes, payload: bytes, little_endian: bool = True) -> bytes:
    size = struct.pack("<I" if little_endian else ">I", len(payload))
    return fourcc + size + payload + (b"\0" if len(payload) & 1 else b"")


def iter_chunks(handle: BinaryIO, start: int, end: int, little_endian: bool = True) -> Iterator[Chunk]:
    """The chunk headers in ``[start, end)``, unchecked: for scans that only look (the C2PA pre-scan)."""
    position = start
    layout = "<4sI" if little_endian else ">4sI"
    while position + 8 <= end:
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            return
        fourcc, length = struct.unpack(layout, header)
        list_type = handle.read(4) if fourcc == b"LIST" and length >= 4 else None
        chunk = Chunk(fourcc, position, length, list_type)
        yield chunk
        position = chunk.end


def read_form(path: Path) -> Form:
    """The form type and top-level chunks, each size checked against the file's size."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(12)
        if head[:4] == b"RF64":
            raise DisclosureError(path, "is an RF64 (over 4 GiB) WAV, which aidisclose cannot write yet")
        if len(head) < 12 or head[:4] not in (b"RIFF", b"FORM"):
            raise DisclosureError(path, "is not a RIFF or IFF file")
        little = head[:4] == b"RIFF"
        form_end = 8 + struct.unpack("<I" if little else ">I", head[4:8])[0]
        if form_end > size + 1:  # one missing final pad byte is common and harmless
            raise DisclosureError(
                path,
                f"its {head[:4].decode()} header claims {form_end} bytes but the file has {size}; "
                "the file is truncated",
            )
        chunks = []
        for chunk in iter_chunks(handle, 12, min(form_end, size), little):
            if chunk.payload + chunk.size > size:
                raise DisclosureError(
                    path,
                    f"chunk '{chunk.fourcc.decode('latin-1')}' at byte {chunk.offset} claims {chunk.size} bytes "
                    f"but only {size - chunk.payload} remain; the file is truncated or the size is wrong",
                )
            chunks.append(chunk)
    return Form(head[:4], head[8:12], chunks, form_end)


def read_payload(path: Path, chunk: Chunk) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(chunk.payload)
        return handle.read(chunk.size)


def list_entries(payload: bytes, little_endian: bool = True) -> list[tuple[bytes, bytes]]:
    """The sub-chunks of a ``LIST`` payload after its 4-byte list type."""
    entries, position = [], 4
    layout = "<4sI" if little_endian else ">4sI"
    while position + 8 <= len(payload):
        fourcc, length = struct.unpack(layout, payload[position : position + 8])
        entries.append((fourcc, payload[position + 8 : position + 8 + length]))
        position += 8 + length + (length & 1)
    return entries
