"""Rebuild a disclosure record from raw carrier values, with where each value came from.

Pure: no file is opened here. ``inspect`` rebuilds what it read from a file;
``stamp`` rebuilds what it wrote, to verify it before anything is replaced.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from .carriers.base import CarrierValues, StorageStyle
from .chinalabel import label_fields, parse_label, stored_labels
from .fieldmap import held_fields
from .record import DisclosureRecord


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)


class Conflict(_Result):
    """Two carriers hold different values for one field."""

    field: str
    source: str
    value: Any
    other_source: str
    other_value: Any


class Problem(_Result):
    """A carrier holds a value that is not valid for the record; it was not used."""

    field: str
    source: str
    value: Any
    reason: str


#: Where the IPTC Extension's DigitalSourceType (``Iptc4xmpExt:DigitalSourceType``) is read from, in XMP.
IPTC_SOURCE_TYPE_LABEL = "xmp:Xmp.iptcExt.DigitalSourceType"


class ChinaLabelReading(_Result):
    """The label one carrier holds: its keys as text."""

    source: str
    fields: dict[str, str]


class ChinaLabel(_Result):
    """China's implicit label (GB 45438-2025, see ``chinalabel``): the first carrier's, and every carrier's."""

    fields: dict[str, str]
    source: str
    readings: list[ChinaLabelReading]


class Provenance(_Result):
    carriers: list[str]
    stamped_by_aidisclose: bool
    sources: dict[str, str]
    conflicts: list[Conflict]
    problems: list[Problem]
    sidecar: str | None = None  # the XMP sidecar the values were read from, for formats without a writer
    #: The IPTC Extension DigitalSourceType property's value, where the file's XMP holds a valid one: the
    #: standard mark platforms read (Meta's "AI info", Google Images), whichever carrier's value the record took.
    iptc_digital_source_type: str | None = None
    technical: dict[str, Any] = {}  # MediaInfo facts: container, duration, codecs, sizes, rates
    china_label: ChinaLabel | None = None  # GB 45438-2025's AIGC object, where a carrier holds one


@functools.cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    """A validator for one record field, with the field's own annotation and validators."""
    info = DisclosureRecord.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, info])  # type: ignore[arg-type]  # built from the model at run time


#: Only values up to this many characters are remembered (below), so a folder of large values, each its own,
#: cannot make memory grow with the caches' entries.
_REMEMBERED_MAX_CHARS = 4096


def _validate_field(name: str, value: Any) -> tuple[Any, Any]:
    """(typed value, plain JSON value) of one field, or ValidationError."""
    if isinstance(value, str) and len(value) > _REMEMBERED_MAX_CHARS:
        return _validate_value(name, value)
    if isinstance(value, str | bool | int | float):
        return _validate_scalar(name, value)
    return _validate_composite(name, value)


#: (field, the value as JSON) -> (typed value, plain value as JSON): lists and tables (AI systems, creators,
#: consent) repeat file after file as titles do, and validating one costs ~20 µs. Bounded: emptied when full.
_COMPOSITES: dict[tuple[str, str], tuple[Any, str]] = {}
_COMPOSITES_MAX = 4096


def _validate_composite(name: str, value: Any) -> tuple[Any, Any]:
    """As ``_validate_value``, remembered by the value's JSON text (which tells ``true`` from ``1``, and keeps
    key order). The typed value is made of frozen models, shared; its list is a copy, and the plain value is
    new on every call, so no caller sees another's."""
    try:
        key = (name, json.dumps(value))
    except (TypeError, ValueError):  # not JSON (a value no reader makes): validated as it is
        return _validate_value(name, value)
    if len(key[1]) > _REMEMBERED_MAX_CHARS:
        return _validate_value(name, value)
    known = _COMPOSITES.get(key)
    if known is None:
        typed, plain = _validate_value(name, value)
        if len(_COMPOSITES) >= _COMPOSITES_MAX:
            _COMPOSITES.clear()
        known = _COMPOSITES[key] = (typed, json.dumps(plain))
    typed, plain_text = known
    return (list(typed) if isinstance(typed, list) else typed), json.loads(plain_text)


@functools.lru_cache(maxsize=4096, typed=True)  # typed: True and 1 are different inputs
def _validate_scalar(name: str, value: str | bool | int | float) -> tuple[Any, Any]:
    """As ``_validate_value``, remembered: a delivery repeats its titles, flags and credit lines file after file.

    Only immutable values are cached (text, numbers, enums, dates), so callers may share them.
    """
    return _validate_value(name, value)


def _validate_value(name: str, value: Any) -> tuple[Any, Any]:
    adapter = _field_adapter(name)
    typed = adapter.validate_python(value)
    plain = adapter.dump_python(typed, mode="json", exclude_none=True)
    return typed, (None if plain == [] else plain)


def normalise(name: str, value: Any) -> Any:
    """``value`` as field ``name`` holds it once validated; an invalid value as it is."""
    try:
        return _validate_field(name, value)[1]
    except ValidationError:
        return value


def _reason(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])  # relative to the field: its adapter validated it alone
    return f"{where + ': ' if where else ''}{err['msg']}"


def rebuild_record(stored: CarrierValues) -> tuple[DisclosureRecord, Provenance]:
    """The record the carriers hold, and where each value came from.

    The first valid value in field-map order wins; every other carrier that
    holds the field is compared on what it can carry.
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    conflicts: list[Conflict] = []
    problems: list[Problem] = []
    iptc_source_type: str | None = None
    for name, held in held_fields(stored):
        found = _field_outcome(name, held)
        if found.source is not None:
            values[name] = list(found.typed) if isinstance(found.typed, list) else found.typed
            sources[name] = found.source
        conflicts += found.conflicts
        problems += found.problems
        if found.iptc_source_type is not None:
            iptc_source_type = found.iptc_source_type
    china_label = _china_label(stored, conflicts, problems)
    provenance = Provenance(
        china_label=china_label,
        carriers=sorted(c for c, keys in stored.items() if keys),
        stamped_by_aidisclose="schema_version" in sources,  # only aidisclose writes it, in any carrier
        sources=sources,
        conflicts=conflicts,
        problems=problems,
        iptc_digital_source_type=iptc_source_type,
    )
    return DisclosureRecord.model_validate(values), provenance


class _FieldOutcome(NamedTuple):
    """What the carriers that hold one field say of it: the value chosen and its source, what disagrees."""

    typed: Any
    source: str | None
    conflicts: tuple[Conflict, ...]
    problems: tuple[Problem, ...]
    iptc_source_type: str | None


#: (field, each style holding it with its raw values) -> what they say of the field. A delivery repeats
#: most fields file after file (its AI systems, creators, consent), and decoding, validating and comparing
#: them is most of a rebuild. Pure, so remembered; only small raw values, and few, so memory stays flat.
_FIELDS: dict[tuple[Any, ...], _FieldOutcome] = {}
_FIELDS_MAX = 2048


def _frozen(raw: Any) -> tuple[Any, ...] | str | None:
    """A raw carrier value (text, a list of text, language alternatives) as a key; None for anything else."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        return ("list", *raw)
    if isinstance(raw, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        return ("dict", *raw.items())
    return None


def _field_key(name: str, held: list[tuple[StorageStyle, dict[str, Any]]]) -> tuple[Any, ...] | None:
    key: list[Any] = [name]
    size = 0
    for style, present in held:
        key.append(style)  # the field map's own styles, made once: compared by identity
        for k, raw in present.items():
            frozen = _frozen(raw)
            if frozen is None:
                return None
            size += len(raw) if isinstance(raw, str) else sum(len(str(v)) + 1 for v in frozen)  # items count too
            key += (k, frozen)
    return tuple(key) if size <= _REMEMBERED_MAX_CHARS else None


def _field_outcome(name: str, held: list[tuple[StorageStyle, dict[str, Any]]]) -> _FieldOutcome:
    key = _field_key(name, held)
    known = _FIELDS.get(key) if key is not None else None
    if known is None:
        known = _read_field(name, held)
        if key is not None:
            if len(_FIELDS) >= _FIELDS_MAX:
                _FIELDS.clear()
            _FIELDS[key] = known
    return known


def _read_field(name: str, held: list[tuple[StorageStyle, dict[str, Any]]]) -> _FieldOutcome:
    """The first valid value in field-map order, and every other style's value compared on what it can carry."""
    conflicts: list[Conflict] = []
    problems: list[Problem] = []
    iptc_source_type: str | None = None
    chosen: tuple[str, Any] | None = None
    chosen_typed: Any = None
    for style, present in held:
        value = style.decode(present)
        if value is None:
            continue
        try:
            typed, plain = _validate_field(name, value)
        except ValidationError as exc:
            problems.append(Problem(field=name, source=style.label, value=value, reason=_reason(exc)))
            continue
        if style.label == IPTC_SOURCE_TYPE_LABEL and isinstance(plain, str):
            iptc_source_type = plain
        if chosen is None:
            chosen, chosen_typed = (style.label, plain), typed
            continue
        if plain == chosen[1]:
            continue  # holds the chosen value itself: nothing to disagree about (and no projection to pay for)
        expected = normalise(name, style.project(chosen[1]))
        if not style.agrees(plain, expected):
            conflicts.append(
                Conflict(
                    field=name,
                    source=chosen[0],
                    value=expected,
                    other_source=style.label,
                    other_value=plain,
                )
            )
    source = chosen[0] if chosen is not None else None
    return _FieldOutcome(chosen_typed, source, tuple(conflicts), tuple(problems), iptc_source_type)


def _china_label(stored: CarrierValues, conflicts: list[Conflict], problems: list[Problem]) -> ChinaLabel | None:
    """The AIGC label of every carrier that holds one; one that cannot be read, or disagrees, is reported."""
    readings: list[ChinaLabelReading] = []
    for source, raw in stored_labels(stored):
        label, why = parse_label(raw)
        if label is None:
            shown = raw if len(str(raw)) <= 200 else str(raw)[:200] + "…"
            problems.append(Problem(field="china_label", source=source, value=shown, reason=f"the AIGC value {why}"))
            continue
        fields, wrong = label_fields(label)
        for reason in wrong:
            problems.append(Problem(field="china_label", source=source, value=fields, reason=reason))
        readings.append(ChinaLabelReading(source=source, fields=fields))
    if not readings:
        return None
    first = readings[0]
    for other in readings[1:]:
        if other.fields != first.fields:
            conflicts.append(
                Conflict(
                    field="china_label",
                    source=first.source,
                    value=first.fields,
                    other_source=other.source,
                    other_value=other.fields,
                )
            )
    return ChinaLabel(fields=first.fields, source=first.source, readings=readings)
