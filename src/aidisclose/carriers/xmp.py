"""XMP storage styles: standard IPTC/PLUS/Dublin Core properties and our namespace.

Keys use exiv2's notation (``Xmp.<prefix>.<Property>``), which pyexiv2 reads
and writes for every image format it supports.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..vocab import (
    IPTC_DST_BASE,
    PLUS_DMI_BASE,
    PLUS_TO_TRAINING_MINING,
    TRAINING_MINING_TO_PLUS,
    TrainingMining,
    source_type_from_uri,
    source_type_uri,
)
from .base import Carrier, StorageStyle, Stored, first_text, text_list

AIDISCLOSE_NS = "https://aidisclose.org/ns/xmp/1.0/"
AIDISCLOSE_PREFIX = "aidisclose"
#: China's implicit label (GB 45438-2025; TC260-PG-20258A): ``TC260:AIGC`` holds its JSON (see ``chinalabel``).
TC260_NS = "http://www.tc260.org.cn/ns/AIGC/1.0/"
TC260_PREFIX = "TC260"
#: Separator used where one standard text property lists several values.
LIST_SEPARATOR = "; "


def own_key(field: str) -> str:
    """``ai_systems`` -> ``Xmp.aidisclose.AiSystems``: our namespace's property for a field."""
    return f"Xmp.{AIDISCLOSE_PREFIX}." + "".join(p.capitalize() for p in field.split("_"))


class XmpText(StorageStyle):
    def __init__(self, key: str, owned: bool = False) -> None:
        super().__init__(Carrier.XMP, key, owned=owned)

    def encode(self, value: Any) -> dict[str, Stored | None]:
        return {self.keys[0]: str(value)}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        raw = stored.get(self.keys[0])
        return first_text(raw) if raw is not None else None


class XmpBool(XmpText):
    """XMP Boolean: the strings ``True`` and ``False``."""

    def encode(self, value: Any) -> dict[str, Stored | None]:
        return {self.keys[0]: "True" if value else "False"}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        text = super().decode(stored)
        if text is None:
            return None
        lowered = text.strip().lower()
        return {"true": True, "false": False}.get(lowered, text)


class XmpInt(XmpText):
    def decode(self, stored: Mapping[str, Stored]) -> Any:
        text = super().decode(stored)
        if text is None:
            return None
        return int(text) if text.strip().isdigit() else text


class XmpJson(XmpText):
    """A structured field as JSON text in our namespace."""

    def encode(self, value: Any) -> dict[str, Stored | None]:
        return {self.keys[0]: json.dumps(value, ensure_ascii=False, sort_keys=True)}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        text = super().decode(stored)
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text  # shown as a problem when the record is rebuilt


class XmpLangAlt(XmpText):
    """A language alternative (dc:rights, dc:title, xmpRights:UsageTerms): x-default."""

    def encode(self, value: Any) -> dict[str, Stored | None]:
        return {self.keys[0]: {'lang="x-default"': str(value)}}


class XmpNameSeq(XmpText):
    """An ordered array of names (dc:creator) from a list of objects with ``name``."""

    merges_names = True

    def encode(self, value: Any) -> dict[str, Stored | None]:
        return {self.keys[0]: [item["name"] for item in value]}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        raw = stored.get(self.keys[0])
        return [{"name": n} for n in text_list(raw)] if raw is not None else None


class XmpUri(XmpText):
    """A vocabulary term written as ``base + term``; foreign URIs are read as they are."""

    def __init__(self, key: str, base: str) -> None:
        super().__init__(key)
        self.base = base

    def encode(self, value: Any) -> dict[str, Stored | None]:
        return {self.keys[0]: self.base + str(value)}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        text = super().decode(stored)
        if text is None:
            return None
        text = text.strip()
        return text[len(self.base) :] if text.startswith(self.base) else text


class XmpSourceType(XmpUri):
    """The digital source type as its URI: IPTC's terms, and C2PA's own under c2pa.org (as the manifest has them)."""

    def __init__(self, key: str) -> None:
        super().__init__(key, IPTC_DST_BASE)

    def encode(self, value: Any) -> dict[str, Stored | None]:
        return {self.keys[0]: source_type_uri(str(value))}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        text = XmpText.decode(self, stored)
        return source_type_from_uri(text) if text is not None else None


class XmpDataMining(XmpText):
    """PLUS DataMining URI <-> the record's training_mining choice."""

    def encode(self, value: Any) -> dict[str, Stored | None]:
        return {self.keys[0]: PLUS_DMI_BASE + TRAINING_MINING_TO_PLUS[TrainingMining(value)]}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        text = super().decode(stored)
        if text is None:
            return None
        term = text.strip().removeprefix(PLUS_DMI_BASE)
        if term == "DMI-UNSPECIFIED":
            return None
        found = PLUS_TO_TRAINING_MINING.get(term)
        return found.value if found else text


class JoinedAISystems(StorageStyle):
    """System names under one key and versions under another, several systems ``; ``-joined.

    IPTC 2025.1 AISystemUsed + AISystemVersionUsed in XMP; the same single-value
    form in ID3, Vorbis and MP4 tags, where other readers show only one value.
    """

    def encode(self, value: Any) -> dict[str, Stored | None]:
        names = LIST_SEPARATOR.join(s["name"] for s in value)
        versions = [s.get("version", "") for s in value]
        joined_versions = LIST_SEPARATOR.join(versions) if any(versions) else None
        return {self.keys[0]: names, self.keys[1]: joined_versions}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        raw_names, raw_versions = stored.get(self.keys[0]), stored.get(self.keys[1])
        names = (first_text(raw_names) or "").split(LIST_SEPARATOR) if raw_names is not None else []
        versions = (first_text(raw_versions) or "").split(LIST_SEPARATOR) if raw_versions else []
        if len(versions) != len(names):
            versions = [""] * len(names)
        # A name holding the separator splits into blanks; blank parts carry nothing.
        pairs = [(n, v) for n, v in zip(names, versions, strict=True) if n.strip()]
        return [{"name": n, "version": v} if v else {"name": n} for n, v in pairs] or None


class XmpPrompts(StorageStyle):
    """IPTC 2025.1 AIPromptInformation + AIPromptWriterName for the record's prompts."""

    def __init__(self, text_key: str, writer_key: str) -> None:
        super().__init__(Carrier.XMP, text_key, writer_key)

    def encode(self, value: Any) -> dict[str, Stored | None]:
        texts = "\n\n".join(p["text"] for p in value)
        writers = list(dict.fromkeys(p["writer"] for p in value if p.get("writer")))
        return {self.keys[0]: texts, self.keys[1]: LIST_SEPARATOR.join(writers) if writers else None}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        raw_text, raw_writer = stored.get(self.keys[0]), stored.get(self.keys[1])
        text = first_text(raw_text) if raw_text is not None else None
        if not text:
            return None
        writer = first_text(raw_writer) if raw_writer is not None else None
        return [{"text": text, "writer": writer} if writer else {"text": text}]
