"""What every storage style and metadata store provides.

A *storage style* says how one record field is kept under one or more keys of
one carrier (beets' ``StorageStyle``). Values passed in and out are the
record's plain JSON values (``DisclosureRecord.to_json_dict``), so styles know
nothing of pydantic; validation happens once, when a record is rebuilt.

A *metadata store* reads and writes the raw keys of all carriers in one
container format, and says how it writes (``WriteMode``), so callers dispatch
on what a store declares rather than on its class.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from ..errors import DisclosureError


class Carrier(StrEnum):
    """The places a record is kept in; the values are the labels reports show (``xmp:Xmp.dc.title``)."""

    XMP = "xmp"
    IIM = "iptc"  # the legacy binary IPTC block of JPEG, TIFF, PSD
    ID3 = "id3"
    VORBIS = "vorbis"
    MP4_TAGS = "mp4"  # iTunes-style items in moov/udta/meta/ilst
    RIFF_INFO = "riff-info"
    EMBEDDED = "embedded"  # container tags MediaInfo sees (Matroska): read, never written


#: A raw value as the underlying library hands it over: text, an array of
#: text, or a language alternative (``{'lang="x-default"': text}``).
Stored = str | list[str] | dict[str, str]
#: carrier name -> key -> raw value
CarrierValues = dict[str, dict[str, Stored]]
#: carrier name -> key -> raw value to write, or None to delete the key
CarrierChanges = dict[str, dict[str, Stored | None]]


class StorageStyle:
    """How one record field is kept under ``keys`` of ``carrier``.

    ``owned`` styles live in aidisclose's own namespace: stamping a record that
    leaves the field out deletes them. Standard styles are only ever replaced,
    never removed, so marks written by other tools are not stripped.
    """

    def __init__(self, carrier: Carrier, *keys: str, owned: bool = False) -> None:
        self.carrier = carrier
        self.keys = keys
        self.owned = owned
        self._label = f"{carrier}:{keys[0]}"  # read for every value of every file: made once

    @property
    def label(self) -> str:
        return self._label

    def encode(self, value: Any) -> dict[str, Stored | None]:
        """Raw values for every key; None deletes a key this value cannot fill."""
        raise NotImplementedError

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        """The field value these raw values hold, or None."""
        raise NotImplementedError

    #: A list of names other tools fill too (dc:creator, By-line, ID3 TCOM): a stamp adds the record's
    #: names after the ones already there, and the list agrees with a record whose names it holds.
    merges_names: ClassVar[bool] = False

    def project(self, value: Any) -> Any:
        """What of ``value`` this style can carry: the basis for conflict checks."""
        encoded = {k: v for k, v in self.encode(value).items() if v is not None}
        return self.decode(encoded) if encoded else None

    def agrees(self, held: Any, expected: Any) -> bool:
        """Whether a held value agrees with ``expected`` (both as the record's plain JSON values)."""
        if self.merges_names and isinstance(held, list) and isinstance(expected, list):
            return all(item in held for item in expected)
        return bool(held == expected)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label})"


@dataclass(frozen=True)
class WriteSettings:
    """What the user chose about how carriers are written, for the stores it concerns."""

    id3v2_version: int | None = None  # 3 or 4; None keeps the tag's own (v2.4 for a new tag)


class WriteMode(StrEnum):
    """How a store writes a file; ``stamp`` dispatches on it."""

    REWRITE = "rewrite"  # a new file is made beside the target, checked, and renamed over it
    IN_PLACE = "in place"  # the file is edited where it stands, in a crash-safe order, no media byte written
    SIDECAR = "sidecar"  # NAME.EXT.xmp beside the file; the media file is never opened for writing


class MetadataStore:
    """Raw key access to every carrier of one container format (subclassed by each store)."""

    #: The carriers this format has, in the order the field map should write them.
    carriers: tuple[Carrier, ...] = ()
    write_mode: ClassVar[WriteMode] = WriteMode.REWRITE

    def configured(self, settings: WriteSettings) -> MetadataStore:
        """This store as ``settings`` ask it to write (a store they do not concern returns itself)."""
        return self

    def written_as_asked(self, path: Path) -> bool:
        """Whether the file's own layout is what this store, as configured, writes (the ID3 version asked for)."""
        return True

    def writable_carriers(self, path: Path) -> tuple[Carrier, ...]:
        """The carriers a stamp of this very file writes (a store may leave one out for a file's layout)."""
        return self.carriers

    def sidecar_of(self, path: Path) -> Path | None:
        """The file beside ``path`` that holds its carriers, for stores that write one; else None."""
        return None

    def read(self, path: Path) -> CarrierValues:
        raise NotImplementedError

    def read_writable(self, path: Path) -> CarrierValues:
        """The carriers a stamp writes, as they are now (at least those; read-only carriers may be left out)."""
        return self.read(path)

    def read_written(self, path: Path, written: Path) -> CarrierValues:
        """The carriers of ``path`` as a ``write`` into ``written`` left them (to check a temp file)."""
        return self.read(written)

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        """Write ``changes`` over ``source``'s carriers into the new file ``target``.

        ``target`` is the new version of the file that holds the carriers: the media file itself,
        or, for ``WriteMode.SIDECAR``, its sidecar.
        """
        raise NotImplementedError

    def essence_ranges(self, path: Path) -> list[tuple[int, int]] | None:
        """The (offset, length) byte ranges ``essence_digest`` hashes, where it hashes the file's bytes as they are.

        None (the default) where the essence is decoded (pixels, samples) rather than read as bytes.
        """
        return None

    def copy_patches(self, source: Path, changes: CarrierChanges) -> list[tuple[int, bytes]] | None:
        """The (offset, bytes) writes, in order, that turn a byte copy of ``source`` into what ``write`` makes.

        None (the default) for a store whose ``write`` is more than such writes (a rewrite, a sidecar).
        """
        return None

    def edit_in_place(
        self, path: Path, changes: CarrierChanges, check: Callable[[Path], None]
    ) -> list[tuple[int, int]]:
        """For ``WriteMode.IN_PLACE``: apply ``changes`` to ``path`` itself; the (offset, length) ranges written."""
        raise NotImplementedError(f"{type(self).__name__} does not edit files in place")

    def essence_digest(self, path: Path) -> str:
        """A digest of the decoded essence (pixels, samples, frames), not of the file."""
        raise NotImplementedError


def first_text(stored: Stored) -> str | None:
    """One text out of whatever shape another tool used for a simple value."""
    if isinstance(stored, str):
        return stored
    if isinstance(stored, list):
        return stored[0] if stored else None
    return lang_default(stored)


def lang_default(stored: Mapping[str, str]) -> str | None:
    for lang in ('lang="x-default"', "x-default"):
        if lang in stored:
            return stored[lang]
    return next(iter(stored.values()), None)


def text_list(stored: Stored) -> list[str]:
    if isinstance(stored, list):
        return list(stored)
    text = first_text(stored)
    return [text] if text else []


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DisclosureError(path, f"cannot read the file: {exc.strerror or exc}") from None


def file_sha256(path: Path) -> str:
    """SHA-256 of the whole file, read in blocks."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise DisclosureError(path, f"cannot read the file: {exc.strerror or exc}") from None
    return digest.hexdigest()


def hash_ranges(path: Path, ranges: list[tuple[int, int]], label: bytes = b"") -> str:
    """SHA-256 over byte ranges ``(offset, length)`` of a file, read in blocks."""
    digest = hashlib.sha256(label)
    with open(path, "rb") as handle:
        for offset, length in ranges:
            handle.seek(offset)
            left = length
            while left > 0:
                block = handle.read(min(left, 1 << 20))
                if not block:
                    raise DisclosureError(path, "ends early; the file is truncated")
                digest.update(block)
                left -= len(block)
    return digest.hexdigest()


def same_ranges(one: Path, ranges: list[tuple[int, int]], other: Path, other_ranges: list[tuple[int, int]]) -> bool:
    """Whether ``ranges`` of ``one`` hold the same bytes as ``other_ranges`` of ``other``, range by range.

    Read side by side in blocks and compared (no hashing: both files are at hand); ranges of other
    lengths, or a file that ends early, are not the same.
    """
    if [length for _, length in ranges] != [length for _, length in other_ranges]:
        return False
    block = 1 << 20
    with open(one, "rb", buffering=0) as first, open(other, "rb", buffering=0) as second:
        a, b = first.fileno(), second.fileno()
        for (offset, length), (other_offset, _) in zip(ranges, other_ranges, strict=True):
            done = 0
            while done < length:
                size = min(block, length - done)
                if os.pread(a, size, offset + done) != os.pread(b, size, other_offset + done):
                    return False  # differing bytes, or one file cut short
                done += size
    return True
