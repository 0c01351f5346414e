"""Rebuild a disclosure record from a file's carriers, with where each value came from."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from . import __version__
from .batch import Item
from .carriers.base import CarrierValues
from .carriers.c2pa import HASH_MISMATCH, REDACTABLE, C2paInfo, read_manifest, redacted
from .carriers.sidecar import SidecarStore, sidecar_path
from .errors import DisclosureError, UnsupportedFormat, os_errors_reported, unexpected
from .fieldmap import read_fields
from .media import detect
from .record import DisclosureRecord
from .technical import technical_facts


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


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


class Provenance(_Result):
    carriers: list[str]
    stamped_by_aidisclose: bool
    sources: dict[str, str]
    conflicts: list[Conflict]
    problems: list[Problem]
    sidecar: str | None = None  # the XMP sidecar the values were read from, for formats without a writer
    technical: dict[str, Any] = {}  # MediaInfo facts: container, duration, codecs, sizes, rates


class InspectResult(_Result):
    path: str
    format: str
    size: int
    sha256: str
    record: DisclosureRecord
    provenance: Provenance
    c2pa: C2paInfo = C2paInfo()
    tool_version: str = __version__

    def to_json_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"record"})
        data["record"] = self.record.to_json_dict()
        return data


@functools.cache
def _field_adapter(name: str) -> TypeAdapter[Any]:
    """A validator for one record field, with the field's own annotation and validators."""
    info = DisclosureRecord.model_fields[name]
    return TypeAdapter(Annotated[info.annotation, info])  # type: ignore[arg-type]  # built from the model at run time


def _validate_field(name: str, value: Any) -> tuple[Any, Any]:
    """(typed value, plain JSON value) of one field, or ValidationError."""
    if isinstance(value, str | bool | int | float):
        return _validate_scalar(name, value)
    return _validate_value(name, value)


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


def _normalise(name: str, value: Any) -> Any:
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
    for readings in read_fields(stored):
        name = readings.name
        chosen: tuple[str, Any] | None = None
        for reading in readings.readings:
            style = reading.style
            try:
                typed, plain = _validate_field(name, reading.value)
            except ValidationError as exc:
                problems.append(Problem(field=name, source=style.label, value=reading.value, reason=_reason(exc)))
                continue
            if chosen is None:
                chosen = (style.label, plain)
                values[name], sources[name] = typed, style.label
                continue
            if plain == chosen[1]:
                continue  # holds the chosen value itself: nothing to disagree about (and no projection to pay for)
            expected = _normalise(name, style.project(chosen[1]))
            if plain != expected:
                conflicts.append(
                    Conflict(
                        field=name,
                        source=chosen[0],
                        value=expected,
                        other_source=style.label,
                        other_value=plain,
                    )
                )
    provenance = Provenance(
        carriers=sorted(c for c, keys in stored.items() if keys),
        stamped_by_aidisclose="schema_version" in sources,  # only aidisclose writes it, in any carrier
        sources=sources,
        conflicts=conflicts,
        problems=problems,
    )
    return DisclosureRecord.model_validate(values), provenance


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@os_errors_reported("reading")
def inspect_file(path: str | Path, technical: bool = True, trust_anchors: bytes | None = None) -> InspectResult:
    """Read every carrier of ``path`` (never writing to it) and rebuild its record.

    ``technical`` adds MediaInfo facts (container, duration, codecs) to the
    provenance; ``trust_anchors`` (PEM) lets a C2PA signer be reported as trusted.
    """
    path = Path(path)
    info = detect(path)
    stored = info.store.read(path)
    record, provenance = rebuild_record(stored)
    extra: dict[str, Any] = {}
    if isinstance(info.store, SidecarStore) and sidecar_path(path).exists():
        extra["sidecar"] = str(sidecar_path(path))
    if technical:
        extra["technical"] = technical_facts(path)
    c2pa = read_manifest(path, info.mime, trust_anchors)
    if c2pa.state != "none":
        c2pa = _explain(c2pa, record)
        extra["conflicts"] = [*provenance.conflicts, *_manifest_conflicts(c2pa, record, provenance)]
    return InspectResult(
        path=str(path),
        format=info.format.value,
        size=path.stat().st_size,
        sha256=file_sha256(path),
        record=record,
        provenance=provenance.model_copy(update=extra),
        c2pa=c2pa,
    )


def _manifest_conflicts(c2pa: C2paInfo, record: DisclosureRecord, provenance: Provenance) -> list[Conflict]:
    """The manifest's digital source type against the one the metadata carriers hold."""
    ours = record.digital_source_type
    if ours is None or not c2pa.digital_source_types or ours.value in c2pa.digital_source_types:
        return []
    return [
        Conflict(
            field="digital_source_type",
            source=provenance.sources.get("digital_source_type", ""),
            value=ours.value,
            other_source="c2pa:c2pa.actions",
            other_value=c2pa.digital_source_types[-1],
        )
    ]


def _explain(c2pa: C2paInfo, record: DisclosureRecord) -> C2paInfo:
    """Say what a hash mismatch means: metadata edited after signing, or the content itself."""
    if c2pa.state != "invalid" or not any(code in HASH_MISMATCH for code in c2pa.codes) or c2pa.message:
        return c2pa
    everything = frozenset(REDACTABLE)
    signed = redacted(c2pa.record or {}, everything)
    current = redacted(record.to_json_dict(), everything)
    if c2pa.record is not None and signed != current:
        message = (
            "metadata was changed after signing: the carriers no longer hold the signed record; stamp and sign again"
        )
    else:
        message = "the content changed after signing: the signed hash no longer matches the file"
    return c2pa.model_copy(update={"message": message})


@dataclass(frozen=True)
class InspectOutcome:
    """One file of a batch: its result, or why it could not be read (or was skipped)."""

    path: Path
    result: InspectResult | None = None
    error: str | None = None
    skipped: str | None = None


def inspect_item(item: Item, trust_anchors: bytes | None = None, technical: bool = True) -> InspectOutcome:
    """For process pools: never raises; a file met in a folder that is not media is skipped."""
    if item.skip:
        return InspectOutcome(item.path, skipped=f"{item.path}: {item.skip}")
    try:
        return InspectOutcome(item.path, result=inspect_file(item.path, technical, trust_anchors))
    except UnsupportedFormat as err:
        return (
            InspectOutcome(item.path, error=err.one_line())
            if item.named
            else InspectOutcome(item.path, skipped=err.one_line())
        )
    except DisclosureError as err:
        return InspectOutcome(item.path, error=err.one_line())
    except Exception as exc:  # a bug must not stop the batch; the line says it is one
        return InspectOutcome(item.path, error=unexpected(item.path, exc))
