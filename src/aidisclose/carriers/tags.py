"""Storage styles for text tags: ID3 text frames, Vorbis comments, MP4 freeform atoms.

All three hold a key with a list of strings. Human-readable ``AIDISCLOSE_*``
keys carry the key fields; formats without XMP also carry the whole record as
one JSON text (``RECORD_KEY``), which their store packs from per-field keys
``RECORD_KEY/<field>`` so that every field keeps its own style.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..vocab import source_type_from_uri, source_type_uri
from .base import Carrier, StorageStyle, Stored, text_list

RECORD_KEY = "AIDISCLOSE_RECORD"
#: China's implicit label (GB 45438-2025): an ID3 ``TXXX`` description and a Vorbis comment of this name.
AIGC_TAG = "AIGC"


class TagText(StorageStyle):
    def encode(self, value: Any) -> dict[str, Stored | None]:
        return {self.keys[0]: [self.to_text(value)]}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        raw = stored.get(self.keys[0])
        values = text_list(raw) if raw is not None else []
        return self.from_text(values[0]) if values else None

    def to_text(self, value: Any) -> str:
        return str(value)

    def from_text(self, text: str) -> Any:
        return text


class TagBool(TagText):
    def to_text(self, value: Any) -> str:
        return "true" if value else "false"

    def from_text(self, text: str) -> Any:
        return {"true": True, "false": False}.get(text.strip().lower(), text)


class TagSourceType(TagText):
    """The digital source type as its full URI (IPTC's, or C2PA's own terms under c2pa.org)."""

    def to_text(self, value: Any) -> str:
        return source_type_uri(str(value))

    def from_text(self, text: str) -> Any:
        return source_type_from_uri(text)


class TagJson(TagText):
    def to_text(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    def from_text(self, text: str) -> Any:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text  # shown as a problem when the record is rebuilt


class TagReviewStatus(TagText):
    """Just the human-review verdict (approved, rejected, pending), for people reading tags."""

    def to_text(self, value: Any) -> str:
        return str(value["status"])

    def from_text(self, text: str) -> Any:
        return {"status": text.strip()}


class TagCreatorsByRole(StorageStyle):
    """A standard tag for creators in one role (ID3 TCOM composers, TEXT lyricists).

    Written only when the record names someone in that role, so an existing
    composer tag is not erased by a record that lists only other creators;
    the record's names are added after the ones already there.
    """

    merges_names = True

    def __init__(self, carrier: Carrier, key: str, roles: frozenset[str]) -> None:
        super().__init__(carrier, key)
        self.roles = roles
        self.role = sorted(roles)[0]

    def encode(self, value: Any) -> dict[str, Stored | None]:
        names = [c["name"] for c in value if (c.get("role") or "").strip().lower() in self.roles]
        return {self.keys[0]: names} if names else {}

    def decode(self, stored: Mapping[str, Stored]) -> Any:
        raw = stored.get(self.keys[0])
        names = text_list(raw) if raw is not None else []
        return [{"name": n, "role": self.role} for n in names] or None


def record_field_key(field: str) -> str:
    return f"{RECORD_KEY}/{field}"


def pack_record(current: str | None, changes: Mapping[str, Stored | None]) -> str | None:
    """Apply per-field ``RECORD_KEY/<field>`` changes to the whole-record JSON text."""
    try:
        record = json.loads(current) if current else {}
    except json.JSONDecodeError:
        record = {}
    if not isinstance(record, dict):
        record = {}
    for key, value in changes.items():
        field = key.split("/", 1)[1]
        if value is None:
            record.pop(field, None)
        else:
            record[field] = json.loads(text_list(value)[0])
    return json.dumps(record, ensure_ascii=False, sort_keys=True) if record else None


def unpack_record(text: str | None) -> dict[str, Stored]:
    """The whole-record JSON text as per-field keys, each holding that field's JSON."""
    if not text:
        return {}
    try:
        record = json.loads(text)
    except json.JSONDecodeError:
        return {RECORD_KEY: [text]}
    if not isinstance(record, dict):
        return {RECORD_KEY: [text]}
    return {record_field_key(k): [json.dumps(v, ensure_ascii=False, sort_keys=True)] for k, v in record.items()}


def tag_writes(
    changes: Mapping[str, Stored | None], current_record: str | None, record_key: str
) -> dict[str, list[str] | None]:
    """Tag key -> new values (None deletes), the per-field record changes folded into ``record_key``."""
    writes: dict[str, list[str] | None] = {}
    record_changes: dict[str, Stored | None] = {}
    for key, value in changes.items():
        if key.startswith(RECORD_KEY + "/"):
            record_changes[key] = value
        else:
            writes[key] = text_list(value) if value is not None else None
    if record_changes:
        packed = pack_record(current_record, record_changes)
        writes[record_key] = [packed] if packed is not None else None
    return writes
