"""IPTC IIM (the legacy binary IPTC block) storage styles, for JPEG and TIFF.

IIM datasets have byte limits; a value that does not fit is not written (the
XMP carrier holds it in full) and any stale value under that key is removed,
so IIM never disagrees with XMP.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import Carrier, StorageStyle, Stored, first_text, text_list

#: ESC % G: the dataset that declares the IIM block as UTF-8.
UTF8_CHARSET = ("Iptc.Envelope.CharacterSet", "\x1b%G")


def _fits(text: str, max_bytes: int) -> bool:
    return len(text.encode("utf-8")) <= max_bytes


class IimText(StorageStyle):
    def __init__(self, key: str, max_bytes: int) -> None:
        super().__init__(Carrier.IIM, key)
        self.max_bytes = max_bytes

    def encode(self, value: Any) -> dict[str, Stored | None]:
        text = str(value)
        return {self.keys[0]: text if _fits(text, self.max_bytes) else None}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        raw = stored.get(self.keys[0])
        return first_text(raw) if raw is not None else None


class IimNames(IimText):
    """A repeatable dataset (By-line) filled from a list of objects with ``name``."""

    merges_names = True

    def encode(self, value: Any) -> dict[str, Stored | None]:
        names = [item["name"] for item in value]
        fits = all(_fits(n, self.max_bytes) for n in names)
        return {self.keys[0]: names if fits else None}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        raw = stored.get(self.keys[0])
        return [{"name": n} for n in text_list(raw)] if raw is not None else None
