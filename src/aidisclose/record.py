"""The disclosure record: the typed, versioned model every carrier maps onto."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from .errors import DisclosureError
from .tomllines import line_for, toml_key_lines
from .vocab import (
    RETIRED_SOURCE_TYPES,
    ConsentStatus,
    Deliverable,
    DigitalSourceType,
    Genre,
    GrantedBy,
    LikenessKind,
    ReplicaType,
    ReviewStatus,
    TrainingDataProvenance,
    TrainingMining,
)

SCHEMA_VERSION = 1
SCHEMA_ID = "https://aidisclose.org/schema/record/1.json"

# XML 1.0 can carry only these characters, and every carrier ends up in XML.
_NOT_XML_CHAR = re.compile("[^\t\n\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _normalise_newlines(value: Any) -> Any:
    # A version or id written unquoted (`version = 4.2`, `--set ai_systems.0.version=4.3`) is still text.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def _xml_safe(value: str) -> str:
    bad = _NOT_XML_CHAR.search(value)
    if bad:
        raise ValueError(f"contains the control character U+{ord(bad.group()):04X}, which metadata cannot carry")
    if not value.strip():
        raise ValueError("is blank; leave the field out instead")
    return value


#: Free text as every carrier can hold it.
Text = Annotated[str, BeforeValidator(_normalise_newlines), AfterValidator(_xml_safe)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class AISystem(_Model):
    name: Text = Field(description="Name of the AI system or model, as its provider calls it.")
    version: Text | None = None
    provider: Text | None = Field(None, description="Company or group that provides the system.")
    purpose: Text | None = Field(None, description="What the system was used for in this asset.")


class Prompt(_Model):
    text: Text
    writer: Text | None = Field(None, description="Who wrote the prompt (personal data).")


class Creator(_Model):
    name: Text
    role: Text | None = None


class TrainingData(_Model):
    provenance: TrainingDataProvenance | None = None
    statement: Text | None = None


class Consent(_Model):
    status: ConsentStatus
    reference: Text | None = Field(None, description="Contract or release reference.")
    date: dt.date | None = None
    scope: Text | None = Field(None, description="What the consent covers (project, uses, term).")
    granted_by: GrantedBy | None = None


class Likeness(_Model):
    person: Text
    kind: LikenessKind
    replica_type: ReplicaType | None = None
    deceased: bool = False
    consent: Consent | None = None


class HumanReview(_Model):
    status: ReviewStatus
    reviewer: Text | None = None
    role: Text | None = None
    date: AwareDatetime | None = None
    notes: Text | None = None


class QualityControl(_Model):
    by: Text | None = None
    date: AwareDatetime | None = None


class SyntheticContent(_Model):
    synthetic_person: bool | None = None
    real_person_recreation: bool | None = None
    audience_disclosure: bool | None = None
    disclosure_location: Text | None = Field(None, description="Where the audience is told, e.g. 'end credits'.")
    union_notice_reference: Text | None = None


class DisclosureRecord(_Model):
    """AI usage, consent and attribution for one asset."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"$id": SCHEMA_ID},
        title="aidisclose disclosure record",
    )

    schema_version: Literal[1] = 1
    # asset
    title: Text | None = None
    asset_id: Text | None = None
    production: Text | None = None
    deliverable: Deliverable | None = None
    genre: Genre | None = None
    # attribution
    ai_used: bool | None = None
    digital_source_type: DigitalSourceType | None = Field(
        None, description="IPTC digital source type, short key (written as the full IPTC URI)."
    )
    ai_systems: list[AISystem] = Field(default_factory=list)
    usage_description: Text | None = None
    prompts: list[Prompt] = Field(default_factory=list)
    generated_at: AwareDatetime | None = None
    creators: list[Creator] = Field(default_factory=list)
    ai_credit_line: Text | None = None
    copyright: Text | None = None
    usage_terms: Text | None = None
    training_mining: TrainingMining | None = None
    # consent
    training_data: TrainingData | None = None
    rights_holders: list[Text] = Field(default_factory=list)
    likeness: list[Likeness] = Field(default_factory=list)
    # oversight
    human_review: HumanReview | None = None
    approval_reference: Text | None = None
    qc: QualityControl | None = None
    # transparency
    synthetic_content: SyntheticContent | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """The record as plain JSON values, leaving out what is not set (None, empty lists)."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_none=True)
        return {k: v for k, v in data.items() if v != []}


RECORD_FIELDS: tuple[str, ...] = tuple(DisclosureRecord.model_fields)


def record_json_schema() -> dict[str, Any]:
    return DisclosureRecord.model_json_schema()


# -- loading -----------------------------------------------------------------


def load_record(path: str | Path, overrides: list[str] | None = None) -> DisclosureRecord:
    """Load a record from TOML or JSON, apply ``field=value`` overrides, validate.

    Errors name the file, the field and, where it can be found, the line.
    """
    path = Path(path)
    data, text = load_record_data(path)
    for item in overrides or []:
        apply_override(data, item)
    return validate_record(data, source=path, text=text)


def load_record_data(path: Path) -> tuple[dict[str, Any], str | None]:
    """The record file's data, not yet validated, and its TOML text (None for JSON) for line numbers."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DisclosureError(path, "no such record file", "create one with `aidisclose init`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DisclosureError(path, f"cannot read the record: {exc}") from None
    is_json = path.suffix.lower() == ".json" or text.lstrip().startswith("{")
    return (_parse_json(path, text), None) if is_json else (_parse_toml(path, text), text)


def load_records_manifest(path: Path) -> dict[str, dict[str, Any]]:
    """Per-file record data keyed by relative path, from CSV (``path`` + dotted field columns) or JSON.

    Paths must stay inside the delivery: no absolute paths and no ``..``.
    """
    import csv

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DisclosureError(path, f"cannot read the records manifest: {exc.strerror or exc}") from None
    entries: dict[str, dict[str, Any]] = {}
    if path.suffix.lower() == ".json":
        data = _parse_json(path, text)
        for key, value in data.items():
            if not isinstance(value, dict):
                raise DisclosureError(path, f"entry {key!r} is not an object of record fields")
            entries[_safe_relative(path, key)] = value
        return entries
    rows = csv.DictReader(text.splitlines())
    if not rows.fieldnames or "path" not in rows.fieldnames:
        raise DisclosureError(path, "a records CSV needs a 'path' column", "plus one column per field, e.g. ai_used")
    for number, row in enumerate(rows, start=2):
        record: dict[str, Any] = {}
        for column, value in row.items():
            if column != "path" and value not in (None, ""):
                try:
                    apply_override(record, f"{column}={value}")
                except DisclosureError as err:
                    raise DisclosureError(path, f"line {number}, column {column}: {err.reason}") from None
        entries[_safe_relative(path, row["path"] or "", number)] = record
    return entries


def _safe_relative(manifest: Path, name: str, line: int | None = None) -> str:
    where = f"line {line}: " if line else ""
    relative = Path(name)
    if not name or relative.is_absolute() or ".." in relative.parts:
        raise DisclosureError(manifest, f"{where}path {name!r} must be relative to the delivery, without '..'")
    return relative.as_posix()


def merge_record_data(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``extra`` laid over it, tables merged key by key, lists and values replaced."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_record_data(merged[key], value)
        else:
            merged[key] = value
    return merged


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DisclosureError(path, f"not valid TOML: {exc}") from None


def _parse_json(path: Path, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DisclosureError(path, f"not valid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(data, dict):
        raise DisclosureError(path, "the record must be a JSON object")
    return data


def validate_record(
    data: dict[str, Any], source: str | Path | None = None, text: str | None = None
) -> DisclosureRecord:
    try:
        return DisclosureRecord.model_validate(data)
    except ValidationError as exc:
        lines = toml_key_lines(text) if text else {}
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        where = ".".join(str(p) for p in loc) or "record"
        line = line_for(loc, lines)
        at = f" (line {line})" if line else ""
        more = f"; {len(exc.errors()) - 1} more problem(s)" if len(exc.errors()) > 1 else ""
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field; see `aidisclose schema` for the field names"
        elif err["type"] == "literal_error" and loc == ("schema_version",):
            msg = f"schema_version {err.get('input')!r} is not supported; this aidisclose reads {SCHEMA_VERSION}"
        raise DisclosureError(source, f"field {where}{at}: {msg}{more}") from None


def check_writable(record: DisclosureRecord, source: str | Path | None = None) -> None:
    """Refuse values that may be read but must not be written."""
    dst = record.digital_source_type
    if dst is not None and dst in RETIRED_SOURCE_TYPES:
        raise DisclosureError(
            source,
            f"digital_source_type {dst.value!r} is retired by IPTC",
            f"use {RETIRED_SOURCE_TYPES[dst].value!r}",
        )


def apply_override(data: dict[str, Any], item: str) -> None:
    """Apply one ``dotted.path=value`` override; the value is read as TOML, else as text."""
    if "=" not in item:
        raise DisclosureError("--set", f"{item!r} is not field=value", "e.g. --set human_review.status=approved")
    path, _, raw = item.partition("=")
    parts: list[str | int] = [int(p) if p.isdigit() else p for p in path.strip().split(".")]
    if not parts or parts[0] == "":
        raise DisclosureError("--set", f"{item!r} names no field")
    try:
        value: Any = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    target: Any = data
    for here, nxt in itertools.pairwise(parts):
        target = _step(target, here, nxt, item)
    last = parts[-1]
    if isinstance(target, list) and isinstance(last, int):
        if last == len(target):
            target.append(value)
        elif last < len(target):
            target[last] = value
        else:
            raise DisclosureError("--set", f"{item!r}: index {last} is past the end of the list")
    elif isinstance(target, dict) and isinstance(last, str):
        target[last] = value
    else:
        raise DisclosureError("--set", f"{item!r} does not fit the record's shape")


def _step(target: Any, key: str | int, nxt: str | int, item: str) -> Any:
    empty: Any = [] if isinstance(nxt, int) else {}
    if isinstance(target, dict) and isinstance(key, str):
        return target.setdefault(key, empty)
    if isinstance(target, list) and isinstance(key, int):
        if key == len(target):
            target.append(empty)
        if key < len(target):
            return target[key]
    raise DisclosureError("--set", f"{item!r} does not fit the record's shape")


RECORD_TEMPLATE = """\
# aidisclose disclosure record (schema_version 1).
# Every field is optional; leave out what does not apply. `aidisclose schema`
# prints the full JSON Schema. Stamp it with:
#   aidisclose stamp FILE --record record.toml --output out/
# (TOML: plain keys first, then the [tables].)
schema_version = 1

# --- asset ------------------------------------------------------------------
title = "Shot 010, sky replacement"
asset_id = "SHOT010_V003"
production = "Example Feature"
deliverable = "final"            # final | temp | marketing | internal
genre = "fiction"                # fiction | documentary | news | reality | animation | advertising | other

# --- attribution & metadata -------------------------------------------------
ai_used = true
# IPTC digital source type (short key), written as the full IPTC URI, e.g.
# trainedAlgorithmicMedia (fully generated), compositeWithTrainedAlgorithmicMedia
# (captured + generated parts), algorithmicallyEnhanced, digitalCapture, humanEdits.
digital_source_type = "compositeWithTrainedAlgorithmicMedia"
usage_description = "Sky replaced with a generated plate"
generated_at = 2026-10-01T10:00:00Z     # when the AI output was made (with a time zone)
ai_credit_line = "Sky plate created with ExampleGen"
copyright = "(c) 2026 Example Studio"
usage_terms = "Internal review only until release"
training_mining = "not-allowed"  # allowed | not-allowed | constrained

# --- consent ----------------------------------------------------------------
rights_holders = ["Example Studio"]

# --- human oversight --------------------------------------------------------
# Written approval, required for final deliverables, likeness, personal data
# and third-party IP.
approval_reference = "APPROVAL-2026-0042"

# --- tables -------------------------------------------------------------------
# One [[ai_systems]] table per AI system used.
[[ai_systems]]
name = "ExampleGen"
version = "4.2"
provider = "Example AI Inc."
purpose = "sky plate generation"

# Prompts are personal data when they name people; leave them out if unsure.
# [[prompts]]
# text = "overcast sky at dusk, anamorphic"
# writer = "A. Artist"

[[creators]]
name = "A. Artist"
role = "compositor"

[training_data]
provenance = "licensed"          # licensed | owned | public-domain | unknown
statement = "Model trained on licensed stock imagery"

# One [[likeness]] table per person whose likeness or voice is replicated.
# [[likeness]]
# person = "Performer Name"
# kind = "likeness"              # likeness | voice | both
# replica_type = "employment-based"  # employment-based | independently-created | background | synthetic-performer
# deceased = false
# [likeness.consent]
# status = "granted"             # granted | pending | denied | revoked
# reference = "CONSENT-2026-007"
# date = 2026-09-01
# scope = "This production only"
# granted_by = "self"            # self | estate | representative | union

[human_review]
status = "approved"              # approved | rejected | pending
reviewer = "QC Lead"
role = "VFX supervisor"
date = 2026-10-02T09:00:00Z

[qc]
by = "QC Lead"
date = 2026-10-02T09:30:00Z

# --- synthetic-content transparency -----------------------------------------
[synthetic_content]
synthetic_person = false
real_person_recreation = false
audience_disclosure = true
disclosure_location = "end credits"
"""
