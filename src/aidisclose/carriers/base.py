"""What every storage style and metadata store provides.

A *storage style* says how one record field is kept under one or more keys of
one carrier (beets' ``StorageStyle``). Values passed in and out are the
record's plain JSON values (``DisclosureRecord.to_json_dict``), so styles know
nothing of pydantic; validation happens once, when a record is rebuilt.

A *metadata store* reads and writes the raw keys of all carriers in one
container format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from ..errors import DisclosureError

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

    def __init__(self, carrier: str, *keys: str, owned: bool = False) -> None:
        self.carrier = carrier
        self.keys = keys
        self.owned = owned

    @property
    def label(self) -> str:
        return f"{self.carrier}:{self.keys[0]}"

    def encode(self, value: Any) -> dict[str, Stored | None]:
        """Raw values for every key; None deletes a key this value cannot fill."""
        raise NotImplementedError

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        """The field value these raw values hold, or None."""
        raise NotImplementedError

    def project(self, value: Any) -> Any:
        """What of ``value`` this style can carry: the basis for conflict checks."""
        encoded = {k: v for k, v in self.encode(value).items() if v is not None}
        return self.decode(encoded) if encoded else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label})"


class MetadataStore(Protocol):
    """Raw key access to every carrier of one container format."""

    @property
    def carriers(self) -> tuple[str, ...]:
        """The carriers this format has, in the order the field map should write them."""
        ...

    def read(self, path: Path) -> CarrierValues: ...

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        """Write ``source`` with ``changes`` applied to the new file ``target``."""
        ...

    def essence_digest(self, path: Path) -> str:
        """A digest of the decoded essence (pixels, samples, frames), not of the file."""
        ...


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
