"""The field map: every record field and the storage styles that carry it.

One table drives both writing (``encode_record``) and reading (``held_fields``).
Within a field the styles are listed in order of authority: the first one that
holds a value supplies it, and every other style that holds one is checked
against it, so carriers that disagree are reported instead of hidden. Every
field's first XMP style is in our own namespace, so the record reads back
whole when a standard property another tool filled is kept (``standard.py``).
Adding a field or a carrier is one edit here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from .carriers.base import Carrier, CarrierChanges, CarrierValues, StorageStyle
from .carriers.iim import UTF8_CHARSET, IimNames, IimText
from .carriers.tags import (
    TagBool,
    TagCreatorsByRole,
    TagJson,
    TagReviewStatus,
    TagSourceType,
    TagText,
    record_field_key,
)
from .carriers.xmp import (
    JoinedAISystems,
    XmpBool,
    XmpDataMining,
    XmpInt,
    XmpJson,
    XmpLangAlt,
    XmpNameSeq,
    XmpPrompts,
    XmpSourceType,
    XmpText,
    own_key,
)
from .record import RECORD_FIELDS, DisclosureRecord


@dataclass(frozen=True)
class MediaField:
    name: str
    styles: tuple[StorageStyle, ...]


def _own_text(name: str) -> XmpText:
    return XmpText(own_key(name), owned=True)


def _own_json(name: str) -> XmpJson:
    return XmpJson(own_key(name), owned=True)


_XMP_IIM_MAP: tuple[MediaField, ...] = (
    MediaField("schema_version", (XmpInt(own_key("schema_version"), owned=True),)),
    MediaField(
        "title",
        (_own_text("title"), XmpLangAlt("Xmp.dc.title"), IimText("Iptc.Application2.ObjectName", 64)),
    ),
    MediaField("asset_id", (_own_text("asset_id"),)),
    MediaField("production", (_own_text("production"),)),
    MediaField("deliverable", (_own_text("deliverable"),)),
    MediaField("genre", (_own_text("genre"),)),
    MediaField("ai_used", (XmpBool(own_key("ai_used"), owned=True),)),
    MediaField(
        "digital_source_type", (_own_text("digital_source_type"), XmpSourceType("Xmp.iptcExt.DigitalSourceType"))
    ),
    MediaField(
        "ai_systems",
        (
            _own_json("ai_systems"),
            JoinedAISystems(Carrier.XMP, "Xmp.iptcExt.AISystemUsed", "Xmp.iptcExt.AISystemVersionUsed"),
        ),
    ),
    MediaField("usage_description", (_own_text("usage_description"),)),
    MediaField(
        "prompts",
        (
            _own_json("prompts"),
            XmpPrompts("Xmp.iptcExt.AIPromptInformation", "Xmp.iptcExt.AIPromptWriterName"),
        ),
    ),
    MediaField("generated_at", (_own_text("generated_at"),)),
    MediaField(
        "creators",
        (
            _own_json("creators"),
            XmpNameSeq("Xmp.dc.creator"),
            IimNames("Iptc.Application2.Byline", 32),
        ),
    ),
    # Not photoshop:Credit / IIM Credit: those hold the image's general credit line (an agency's, a photographer's).
    MediaField("ai_credit_line", (_own_text("ai_credit_line"),)),
    MediaField(
        "copyright",
        (_own_text("copyright"), XmpLangAlt("Xmp.dc.rights"), IimText("Iptc.Application2.Copyright", 128)),
    ),
    MediaField("usage_terms", (_own_text("usage_terms"), XmpLangAlt("Xmp.xmpRights.UsageTerms"))),
    MediaField("training_mining", (_own_text("training_mining"), XmpDataMining("Xmp.plus.DataMining"))),
    MediaField("output_status", (_own_text("output_status"),)),
    MediaField("personal_data", (XmpBool(own_key("personal_data"), owned=True),)),
    MediaField("third_party_ip", (XmpBool(own_key("third_party_ip"), owned=True),)),
    MediaField("training_data", (_own_json("training_data"),)),
    MediaField("rights_holders", (_own_json("rights_holders"),)),
    MediaField("likeness", (_own_json("likeness"),)),
    MediaField("human_review", (_own_json("human_review"),)),
    MediaField("approval_reference", (_own_text("approval_reference"),)),
    MediaField("approvals", (_own_json("approvals"),)),
    MediaField("qc", (_own_json("qc"),)),
    MediaField("synthetic_content", (_own_json("synthetic_content"),)),
)


class TagCarrier(NamedTuple):
    """A carrier of text tags and how the field map spells its keys."""

    carrier: Carrier
    key: str  # format string for the key of one human-readable field
    copyright_key: str
    holds_record: bool  # also the whole record as JSON, because the format has no XMP


# The embedded carrier (Matroska tags seen through MediaInfo) is read, never written.
_TAG_CARRIERS: tuple[TagCarrier, ...] = (
    TagCarrier(Carrier.ID3, "TXXX:AIDISCLOSE_{}", "TCOP", holds_record=False),
    TagCarrier(Carrier.VORBIS, "AIDISCLOSE_{}", "COPYRIGHT", holds_record=True),
    TagCarrier(Carrier.MP4_TAGS, "----:org.aidisclose:{}", "cprt", holds_record=True),
    TagCarrier(Carrier.EMBEDDED, "AIDISCLOSE_{}", "COPYRIGHT", holds_record=False),
)


def _tag_styles(carrier: Carrier, key: str, copyright_key: str) -> dict[str, list[StorageStyle]]:
    """The human-readable key fields in one tag carrier."""
    k = key.format
    return {
        "ai_used": [TagBool(carrier, k("AI_USED"), owned=True)],
        "digital_source_type": [TagSourceType(carrier, k("DIGITAL_SOURCE_TYPE"), owned=True)],
        "ai_systems": [JoinedAISystems(carrier, k("AI_SYSTEMS"), k("AI_SYSTEM_VERSIONS"), owned=True)],
        "human_review": [TagReviewStatus(carrier, k("HUMAN_REVIEW"), owned=True)],
        "ai_credit_line": [TagText(carrier, k("AI_CREDIT"), owned=True)],
        "copyright": [TagText(carrier, copyright_key)],
    }


def _build_field_map() -> tuple[MediaField, ...]:
    styles: dict[str, list[StorageStyle]] = {f.name: list(f.styles) for f in _XMP_IIM_MAP}
    for tags in _TAG_CARRIERS:
        if tags.holds_record:
            for name in styles:
                styles[name].append(TagJson(tags.carrier, record_field_key(name), owned=True))
        for name, extra in _tag_styles(tags.carrier, tags.key, tags.copyright_key).items():
            styles[name].extend(extra)
    styles["creators"] += [
        TagCreatorsByRole(Carrier.ID3, "TCOM", frozenset({"composer"})),
        TagCreatorsByRole(Carrier.ID3, "TEXT", frozenset({"lyricist", "lyrics", "songwriter"})),
    ]
    styles["copyright"].append(TagText(Carrier.RIFF_INFO, "ICOP"))
    return tuple(MediaField(name, tuple(s)) for name, s in styles.items())


FIELD_MAP = _build_field_map()

_missing = set(RECORD_FIELDS) - {f.name for f in FIELD_MAP}
assert not _missing, f"record fields without storage: {_missing}"  # a new field needs a row


def styles_for(media_field: MediaField, carriers: Iterable[str]) -> list[StorageStyle]:
    wanted = set(carriers)
    return [s for s in media_field.styles if s.carrier in wanted]


def encode_record(record: DisclosureRecord, carriers: Iterable[str]) -> CarrierChanges:
    """The raw writes and deletions that store ``record`` in ``carriers``.

    A field the record sets is written to every style (keys a style cannot
    fill are deleted, so no stale value survives beside the new one). A field
    the record leaves out is deleted from our own namespace and left alone in
    standard properties, which other tools may have written.
    """
    carriers = tuple(carriers)
    values = record.to_json_dict()
    changes: CarrierChanges = {c: {} for c in carriers}
    for media_field in FIELD_MAP:
        value = values.get(media_field.name)
        for style in styles_for(media_field, carriers):
            if value is not None:
                changes[style.carrier].update(style.encode(value))
            elif style.owned:
                changes[style.carrier].update(dict.fromkeys(style.keys))
    iptc = changes.get(Carrier.IIM)
    if iptc and any(v is not None for v in iptc.values()):
        iptc[UTF8_CHARSET[0]] = UTF8_CHARSET[1]
    return changes


#: For every field, its styles with the carrier and keys each reads: looked up for every file, made once.
_READ_PLAN = tuple((f.name, tuple((s, s.carrier, s.keys) for s in f.styles)) for f in FIELD_MAP)


def held_fields(stored: CarrierValues) -> Iterator[tuple[str, list[tuple[StorageStyle, dict[str, Any]]]]]:
    """Each field some carrier holds, with every style that holds it and that style's raw values (undecoded),
    in the field map's order of authority."""
    for name, styles in _READ_PLAN:
        held = []
        for style, carrier, keys in styles:
            raw = stored.get(carrier)
            if raw:
                present = {k: raw[k] for k in keys if k in raw}
                if present:
                    held.append((style, present))
        if held:
            yield name, held


def carrier_keys(carrier: str) -> set[str]:
    """Every key the field map uses in one carrier."""
    return {k for f in FIELD_MAP for s in f.styles if s.carrier == carrier for k in s.keys}
