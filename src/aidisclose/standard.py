"""Standard properties other tools own: what a stamp may change in them.

A standard property (``dc:rights``, IPTC Copyright Notice, ID3 ``TCOP``...)
that already holds another value was put there by someone else, so a stamp
keeps it and says so, unless the user asks to replace it. A value an earlier
stamp wrote (it agrees with the record kept in our own namespace) is ours to
update. Lists of names (``dc:creator``, By-line, ``TCOM``) keep their names in
order and gain the record's after them.
"""

from __future__ import annotations

from typing import Any

from .carriers.base import Carrier, CarrierChanges, CarrierValues, StorageStyle, Stored, text_list
from .fieldmap import FIELD_MAP, styles_for
from .rebuild import Provenance, normalise, rebuild_record
from .record import DisclosureRecord

REPLACE_HINT = "pass --replace-standard to replace it"


def keep_standard(
    changes: CarrierChanges, record: DisclosureRecord, current: CarrierValues, replace: bool = False
) -> tuple[CarrierChanges, tuple[str, ...]]:
    """``changes`` without the writes over standard values another tool put in ``current``, and a note for each.

    With ``replace``, every standard value is written as the record has it (name lists are still merged).
    """
    values = record.to_json_dict()
    before, provenance = rebuild_record(current)
    previous = before.to_json_dict()
    owned_sources = {s.label for f in FIELD_MAP for s in f.styles if s.owned}
    result: CarrierChanges = {carrier: dict(keys) for carrier, keys in changes.items()}
    notes: list[str] = []
    for media_field in FIELD_MAP:
        name, value = media_field.name, values.get(media_field.name)
        ours_before = previous.get(name) if provenance.sources.get(name) in owned_sources else None
        for style in styles_for(media_field, changes):
            raw = current.get(style.carrier, {})
            present = {k: raw[k] for k in style.keys if k in raw}
            held = style.decode(present) if present else None
            if style.owned or value is None or held is None:
                continue  # our namespace, a field this stamp leaves alone, or nothing there yet
            if style.merges_names:
                result[style.carrier].update(_merged_names(style, present, value, ours_before))
            elif not replace and not _ours_or_same(style, name, held, value, ours_before is not None, provenance):
                for key in style.keys:
                    result[style.carrier].pop(key, None)
                notes.append(f"kept the existing {_tag_name(style)} {_shown(held)!r}; {REPLACE_HINT}")
    return result, tuple(notes)


def _ours_or_same(
    style: StorageStyle, name: str, held: Any, value: Any, stamped: bool, provenance: Provenance
) -> bool:
    """Whether a standard value holds what this record writes, or what an earlier stamp wrote there.

    ``stamped``: the field was read from our own namespace, so a standard value that agreed with it is ours.
    """
    if style.agrees(normalise(name, held), normalise(name, style.project(value))):
        return True
    disagrees = {c.other_source for c in provenance.conflicts if c.field == name}
    disagrees |= {p.source for p in provenance.problems if p.field == name}
    return stamped and style.label not in disagrees


def _merged_names(
    style: StorageStyle, present: dict[str, Stored], value: Any, ours_before: Any
) -> dict[str, Stored | None]:
    """The names already there, less those an earlier stamp added and this record drops, then the record's.

    Names the carrier cannot hold (IIM byte limits) are left to XMP; the names already there stay.
    """
    key = style.keys[0]
    encoded = style.encode(value)
    if key not in encoded:
        return {}  # the record names no one this style carries (no composer for TCOM): nothing changes
    wanted = encoded[key]
    new = text_list(wanted) if wanted is not None else []
    before = style.encode(ours_before).get(key) if ours_before else None
    dropped = set(text_list(before)) - set(new) if before else set()
    kept = [n for n in text_list(present[key]) if n not in dropped]
    names = kept + [n for n in new if n not in kept]
    return {key: names or None}


def _tag_name(style: StorageStyle) -> str:
    """A standard key as ExifTool names it: ``XMP-dc:rights``, ``IPTC:Copyright``, ``ID3:TCOP``."""
    key = style.keys[0]
    if style.carrier is Carrier.XMP:
        _, prefix, prop = key.split(".", 2)
        return f"XMP-{prefix}:{prop}"
    if style.carrier is Carrier.IIM:
        return "IPTC:" + key.rsplit(".", 1)[-1]
    return f"{style.carrier.value.upper()}:{key}"


def _shown(held: Any) -> str:
    if isinstance(held, list):
        return "; ".join(str(item.get("name", item)) if isinstance(item, dict) else str(item) for item in held)
    return str(held)
