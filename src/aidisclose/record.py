"""The disclosure record: the typed, versioned model every carrier maps onto."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import itertools
import json
import re
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from .errors import DisclosureError
from .inputs import MANIFEST_LIMIT, read_input_text
from .tomllines import MAX_NESTING, deepest_path, key_above, key_name, line_for, toml_key_lines, too_deep
from .vocab import (
    RETIRED_SOURCE_TYPES,
    ApprovalCategory,
    ConsentStatus,
    Deliverable,
    DigitalSourceType,
    Genre,
    GrantedBy,
    LikenessKind,
    OutputStatus,
    ReplicaType,
    Representation,
    ReviewStatus,
    TrainingDataProvenance,
    TrainingMining,
)

SCHEMA_VERSION = 1
SCHEMA_ID = "https://aidisclose.org/schema/record/1.json"

# XML 1.0 carries only tab, line feed, U+0020-U+D7FF, U+E000-U+FFFD and U+10000-U+10FFFF, and every carrier
# ends up in XML: these are the characters outside that set (the set itself takes five times longer to compile).
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]")


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

#: A yes/no statement: a boolean, never a string or number taken for one.
Flag = Annotated[bool, Strict()]

_HAS_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _with_time(value: Any) -> Any:
    # A date alone (or a number of seconds) is not a moment: which hour, in which zone, is part of the statement.
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _HAS_TIME.match(value.strip())):
        return value.strip() if isinstance(value, str) else value
    raise PydanticCustomError("datetime_needs_time", "needs a date, a time and a UTC offset, e.g. 2026-10-01T10:00:00Z")


def _day_only(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()):
        return value.strip()
    raise PydanticCustomError("date_needs_day", "needs a date without a time, e.g. 2026-09-01")


def _not_a_flag(value: Any) -> Any:
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "must be a number, not true or false")
    return value


#: A whole number of hours (at most ten years), never a yes/no taken for one.
NoticeHours = Annotated[int, Strict(), Field(ge=0, le=87_600)]

#: A moment: date, time and UTC offset (TOML ``2026-10-01T10:00:00Z``, or that text in JSON).
Moment = Annotated[AwareDatetime, BeforeValidator(_with_time)]
#: A calendar day, without a time (TOML ``2026-09-01``, or that text in JSON).
Day = Annotated[dt.date, BeforeValidator(_day_only)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, defer_build=True)


class DataHandling(_Model):
    """What an AI system did with the production's data (Netflix partner guidance, Aug 2025: tools must not
    store, reuse or train on production inputs or outputs, and run enterprise-secured where possible)."""

    retains_inputs: Flag | None = Field(
        None, description="The tool stores or reuses the production's inputs or outputs beyond the session."
    )
    trains_on_inputs: Flag | None = Field(None, description="The tool trains on the production's inputs or outputs.")
    enterprise_secured: Flag | None = Field(
        None, description="Used under an enterprise agreement or secured environment that safeguards the inputs."
    )
    terms_reference: Text | None = Field(None, description="The agreement or terms that say so.")


class AISystem(_Model):
    name: Text = Field(description="Name of the AI system or model, as its provider calls it.")
    version: Text | None = None
    provider: Text | None = Field(None, description="Company or group that provides the system.")
    purpose: Text | None = Field(None, description="What the system was used for in this asset.")
    data_handling: DataHandling | None = None


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
    date: Day | None = None
    scope: Text | None = Field(None, description="What the consent covers (project, uses, term).")
    granted_by: GrantedBy | None = None
    # SAG-AFTRA TV/Theatrical (2023, 2026) and Interactive Media (2025) digital-replica terms; CA AB 2602.
    separate_from_contract: Flag | None = Field(
        None, description="Signed separately, not buried in the standard terms of the engagement contract."
    )
    intended_use: Text | None = Field(
        None, description="The reasonably specific description of the intended use the performer consented to."
    )
    scan_notice_hours: NoticeHours | None = Field(
        None, description="Hours between the notice of a scan (or replica session) and the scan itself."
    )
    project: Text | None = Field(None, description="The project this consent is for (consent is per project).")
    represented_by: Representation | None = Field(
        None, description="Who represented the performer in granting it: union, counsel or none."
    )


class Likeness(_Model):
    person: Text
    kind: LikenessKind
    replica_type: ReplicaType | None = None
    deceased: Flag = False
    consent: Consent | None = None


class Approval(_Model):
    """A written approval for one of the cases studio guidance says need one before proceeding."""

    category: ApprovalCategory
    reference: Text | None = Field(None, description="The approval's reference (letter, ticket, e-mail).")
    date: Day | None = Field(None, description="The day it was given.")
    approver: Text | None = Field(None, description="Who approved (personal data).")


class HumanReview(_Model):
    status: ReviewStatus
    reviewer: Text | None = None
    role: Text | None = None
    date: Moment | None = None
    notes: Text | None = None


class QualityControl(_Model):
    by: Text | None = None
    role: Text | None = Field(None, description="The QC reviewer's role, e.g. 'QC lead'.")
    date: Moment | None = None


class SyntheticContent(_Model):
    synthetic_person: Flag | None = None
    real_person_recreation: Flag | None = None
    audience_disclosure: Flag | None = None
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

    schema_version: Annotated[Literal[1], BeforeValidator(_not_a_flag)] = 1
    # asset
    title: Text | None = None
    asset_id: Text | None = None
    production: Text | None = None
    deliverable: Deliverable | None = None
    genre: Genre | None = None
    # attribution
    ai_used: Flag | None = None
    digital_source_type: DigitalSourceType | None = Field(
        None, description="IPTC digital source type, short key (written as the full IPTC URI)."
    )
    ai_systems: list[AISystem] = []
    usage_description: Text | None = None
    prompts: list[Prompt] = []
    generated_at: Moment | None = None
    creators: list[Creator] = []
    ai_credit_line: Text | None = None
    copyright: Text | None = None
    usage_terms: Text | None = None
    training_mining: TrainingMining | None = None
    output_status: OutputStatus | None = Field(
        None, description="Whether the generated material is temporary (to be replaced) or final."
    )
    personal_data: Flag | None = Field(
        None, description="The AI inputs or output include personal data (e.g. cast or crew information)."
    )
    third_party_ip: Flag | None = Field(
        None, description="The AI inputs or output use or reference third-party IP (works, characters, brands)."
    )
    # consent
    training_data: TrainingData | None = None
    rights_holders: list[Text] = []
    likeness: list[Likeness] = []
    # oversight
    human_review: HumanReview | None = None
    approval_reference: Text | None = None
    approvals: list[Approval] = []
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

#: A field's place in the record: ``("ai_systems", 0, "version")`` is ``ai_systems.0.version``.
KeyPath = tuple[str | int, ...]


def load_record(path: str | Path, overrides: list[str] | None = None) -> DisclosureRecord:
    """Load a record from TOML or JSON, apply ``field=value`` overrides, validate.

    Every problem is reported at once, each naming the field and where it
    came from: the line of the file, or the ``--set`` override.
    """
    path = Path(path)
    data, text = load_record_data(path)
    draft = RecordDraft.start(data, record_origin(path, text))
    for index, item in enumerate(overrides or []):
        Override.parse(item, index).lay_on(draft)
    return draft.validate(path)


def load_record_data(path: Path) -> tuple[dict[str, Any], str | None]:
    """The record file's data, not yet validated, and its TOML text (None for JSON) for line numbers."""
    try:
        text = read_input_text(path, "a record")
    except FileNotFoundError:
        raise DisclosureError(path, "no such record file", "create one with `aidisclose init`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DisclosureError(path, f"cannot read the record: {exc}") from None
    return record_data_from_text(path, text)


def record_data_from_text(path: Path, text: str) -> tuple[dict[str, Any], str | None]:
    """As ``load_record_data``, for a record's text already read (by a caller that bounds what it reads)."""
    is_json = path.suffix.lower() == ".json" or text.lstrip().startswith("{")
    data = _parse_json(path, text) if is_json else _parse_toml(path, text)
    deep = deepest_path(data)
    if deep is not None:
        line = None if is_json else line_for(deep[:1], toml_key_lines(text))
        raise _too_deep(path, key_name(deep[:1]), line)
    return (data, None) if is_json else (data, text)


def _too_deep(path: Path, key: str, line: int | None) -> DisclosureError:
    where = f"{key} ({f'line {line}' if line else 'its value'})" if key else f"line {line}"
    return DisclosureError(
        path, f"{where} nests lists or tables deeper than {MAX_NESTING} levels", "a record needs a few at most"
    )


def _refuse_deep_text(path: Path, text: str, is_json: bool) -> None:
    """Refuse a text nesting too deep for the parsers, naming the line and the key it is under."""
    line = too_deep(text)
    if line is None:
        return
    if is_json:
        upto = sum(len(raw) + 1 for raw in text.split("\n", line)[:line])
        keys = re.findall(r'"((?:[^"\\\n]|\\.)*)"\s*:', text[:upto])
        key = keys[-1] if keys else ""
    else:
        above = key_above(toml_key_lines(text), line)
        key = key_name(above[:1]) if above else ""
    raise _too_deep(path, key, line)


def record_origin(path: Path | None, text: str | None = None) -> Origin:
    """The origin of a base record read from ``path`` (its TOML ``text`` gives the lines)."""
    return Origin(str(path) if path else None, rank=(0,), lines=toml_key_lines(text) if text else {})


@dataclass(frozen=True)
class Origin:
    """Where a value of a record was written: a record file, a manifest row's cell, or a ``--set`` option."""

    file: str | None  # None for --set
    place: str = ""  # "row 3, column ai_used", "--set ai_used=true"; a record file's lines say where instead
    rank: tuple[int, ...] = ()  # the order layers are laid in, and cells within one: problems are told in it
    lines: Mapping[KeyPath, int] = field(default_factory=dict, compare=False)  # a TOML file's key lines

    def describe(self, loc: KeyPath, subject: str | None) -> tuple[str, tuple[int, ...]]:
        """Where a problem at ``loc`` is, told to someone reading about ``subject``; and its place in line order."""
        line = line_for(loc, self.lines) if self.lines else None
        place = f"line {line}" if line else self.place
        where = place if self.file == subject else " ".join(p for p in (self.file, place) if p)
        return where, (*self.rank, line or 0)


@dataclass
class RecordDraft:
    """A record's data as its layers are laid one over another, remembering which layer set each field path.

    Problems found while laying (a value that does not fit the record's shape)
    and while validating are each told with the origin of their path, or of
    the nearest parent path a layer set.
    """

    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[KeyPath, Origin] = field(default_factory=dict)
    problems: list[tuple[KeyPath, Origin | None, str]] = field(default_factory=list)

    @classmethod
    def start(cls, base: dict[str, Any], origin: Origin | None) -> RecordDraft:
        """A draft over a copy of ``base`` (never changed), every path of it set by ``origin``."""
        return cls(copy.deepcopy(base), {(): origin} if origin else {})

    def lay(self, path: KeyPath, value: Any, origin: Origin) -> None:
        """Set ``value`` at ``path`` as ``--set`` does: tables on the way are entered or created, list items
        are addressed by index (one past the end appends), and a table laid over a table merges key by key."""
        if isinstance(value, dict) and isinstance(self._at(path), dict):
            for key, inner in value.items():
                self.lay((*path, key), inner, origin)
            return
        target: Any = self.data
        for depth, (here, after) in enumerate(itertools.pairwise(path), start=1):
            if _can_add(target, here):
                _add(target, here, [] if isinstance(after, int) else {})
                self.origins[path[:depth]] = origin
            if not _holds(target, here):
                self.problems.append((path, origin, _misfit(path[:depth], target, here)))
                return
            target = target[here]
        last = path[-1]
        if _can_add(target, last):
            _add(target, last, value)
        elif _holds(target, last):
            target[last] = value
        else:
            self.problems.append((path, origin, _misfit(path, target, last)))
            return
        for below in [p for p in self.origins if p[: len(path)] == path]:
            del self.origins[below]
        self.origins[path] = origin

    def _at(self, path: KeyPath) -> Any:
        target: Any = self.data
        for part in path:
            if not _holds(target, part):
                return None
            target = target[part]
        return target

    def origin_of(self, loc: KeyPath) -> Origin | None:
        """The layer that set ``loc``, or the nearest parent of it that a layer set."""
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.origins:
                return self.origins[loc[:end]]
        return None

    def field_problems(self) -> list[tuple[KeyPath, str]]:
        """Every problem of the draft, each with the field path it is at, in the words ``validate`` uses."""
        found = [(loc, reason) for loc, _, reason in self.problems]
        try:
            DisclosureRecord.model_validate(self.data)
        except ValidationError as exc:
            found += [(tuple(err["loc"]), _message(err)) for err in exc.errors()]
        return found

    def validate(self, subject: str | Path | None) -> DisclosureRecord:
        """The record, or one DisclosureError about ``subject`` listing every problem in line order."""
        problems = list(self.problems)
        try:
            record = DisclosureRecord.model_validate(self.data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                problems.append((loc, self.origin_of(loc), _message(err)))
        if not problems:
            return record
        told = str(subject) if subject is not None else None
        lines = []
        for index, (loc, origin, reason) in enumerate(problems):
            where, order = origin.describe(loc, told) if origin else ("", ())
            dotted = ".".join(str(p) for p in loc) or "record"
            line = f"field {dotted}{f' ({where})' if where else ''}: {reason}"
            lines.append(((*order, index), _printable(line)))
        told_lines = tuple(text for _, text in sorted(lines))
        if len(told_lines) == 1:
            raise DisclosureError(subject, told_lines[0])
        raise DisclosureError(subject, f"{len(told_lines)} problems in the record", problems=told_lines)


def _can_add(target: Any, key: str | int) -> bool:
    if isinstance(target, dict):
        return isinstance(key, str) and key not in target
    return isinstance(target, list) and key == len(target)


def _add(target: Any, key: str | int, value: Any) -> None:
    if isinstance(target, list):
        target.append(value)
    else:
        target[key] = value


def _holds(target: Any, key: str | int) -> bool:
    if isinstance(target, dict):
        return isinstance(key, str) and key in target
    return isinstance(target, list) and isinstance(key, int) and key < len(target)


def _misfit(path: KeyPath, target: Any, key: str | int) -> str:
    parent = ".".join(str(p) for p in path[:-1]) or "the record"
    if isinstance(target, list) and isinstance(key, int):
        return f"index {key} is past the end of {parent}, which has {len(target)} item(s)"
    if isinstance(target, list):
        shape = "a list: address its items by number"
    elif isinstance(target, dict):
        shape = "a table: name its fields"
    else:
        shape = "a single value, not a table or a list"
    return f"does not fit the record's shape: {parent} is {shape}"


def _printable(text: str) -> str:
    # Field names and --set options are the user's text: a terminal control character is shown, never sent.
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(err: ErrorDetails) -> str:
    """A pydantic error as the line a person reads: what was given, where the message alone does not say."""
    kind, given, context = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown field; see `aidisclose schema` for the field names"
    if kind == "literal_error" and tuple(err["loc"]) == ("schema_version",):
        return f"schema_version {given!r} is not supported; this aidisclose reads {SCHEMA_VERSION}"
    if kind == "enum":
        return f"{_shown(given)} is not one of {context.get('expected', 'the allowed values')}"
    if kind == "bool_type":
        return f"must be true or false, not {_shown(given)}"
    if kind == "timezone_aware":
        return "needs a UTC offset after the time, e.g. 2026-10-01T10:00:00Z or 2026-10-01T12:00:00+02:00"
    return err["msg"]


def validate_record(
    data: dict[str, Any], source: str | Path | None = None, text: str | None = None
) -> DisclosureRecord:
    """Validate record data read from ``source`` (its TOML ``text`` gives the lines of problems)."""
    return RecordDraft.start(data, record_origin(Path(source) if source else None, text)).validate(source)


# -- values given as text: --set and manifest cells ----------------------------


def field_path(dotted: str) -> KeyPath:
    """``"ai_systems.0.version"`` as a field path; numbers address list items."""
    return tuple(int(p) if p.isdigit() else p for p in dotted.strip().split("."))


def value_from_text(path: KeyPath, text: str) -> Any:
    """A value given as text (``--set``, a CSV cell), as the field at ``path`` takes it.

    Surrounding spaces are dropped. A yes/no field takes exactly ``true`` or
    ``false``; anything else stays text and is refused. Text, vocabulary,
    date and time fields take the text as written (a whole quoted TOML
    string is its content), so ``4.10`` stays ``4.10``. Tables, lists and
    numbers are read as TOML values, else kept as text.
    """
    text = text.strip()
    kind = field_type(path)
    if kind is bool:
        return {"true": True, "false": False}.get(text, text)
    if kind in (str, dt.date, AwareDatetime) or (isinstance(kind, type) and issubclass(kind, Enum)):
        quoted = text[:1] in ('"', "'") and _toml_value(text)
        return quoted if isinstance(quoted, str) else text
    value = _toml_value(text)
    return text if value is None else value


def _toml_value(text: str) -> Any:
    if too_deep(text) is not None:
        return None  # kept as text, which the field then refuses
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return None


def field_type(path: KeyPath) -> Any:
    """The type of the record field at ``path`` (Annotated and None unwrapped); None where there is no such field.

    A list's items are at index ``0``: ``("likeness", 0, "consent")`` is the consent of any likeness.
    """
    kind: Any = DisclosureRecord
    for part in path:
        kind = _unwrapped(kind)
        if isinstance(kind, type) and issubclass(kind, BaseModel) and isinstance(part, str):
            if part not in kind.model_fields:
                return None
            kind = kind.model_fields[part].annotation
        elif get_origin(kind) is list and isinstance(part, int):
            (kind,) = get_args(kind)
        else:
            return None
    return _unwrapped(kind)


def _unwrapped(kind: Any) -> Any:
    while True:
        if get_origin(kind) is Annotated:
            kind = get_args(kind)[0]
        elif get_origin(kind) in (Union, types.UnionType):
            options = [k for k in get_args(kind) if k is not type(None)]
            if len(options) != 1:
                return kind
            kind = options[0]
        else:
            return kind


@dataclass(frozen=True)
class Override:
    """One ``--set field=value``: the field's path, its value, and the option as given (its origin)."""

    path: KeyPath
    value: Any
    origin: Origin

    @classmethod
    def parse(cls, item: str, index: int = 0) -> Override:
        if "=" not in item:
            raise DisclosureError("--set", f"{item!r} is not field=value", "e.g. --set human_review.status=approved")
        dotted, _, text = item.partition("=")
        if not dotted.strip():
            raise DisclosureError("--set", f"{item!r} names no field")
        path = field_path(dotted)
        return cls(path, value_from_text(path, text), Origin(None, f"--set {item}", rank=(2, index)))

    def lay_on(self, draft: RecordDraft) -> None:
        draft.lay(self.path, self.value, self.origin)


# -- per-file records manifests ------------------------------------------------


@dataclass(frozen=True)
class ManifestRow:
    """One file's row of a records manifest: the values it sets, each with the cell it came from."""

    key: str  # the file's path, relative to the folder given
    place: str  # "row 3", "entry 'b.jpg'"
    cells: tuple[tuple[KeyPath, Any, Origin], ...]

    def lay_on(self, draft: RecordDraft) -> None:
        for path, value, origin in self.cells:
            draft.lay(path, value, origin)


def load_records_manifest(path: Path) -> dict[str, ManifestRow]:
    """Per-file rows keyed by relative path, from CSV (``path`` + dotted field columns) or JSON.

    A row is laid over the base record as ``--set`` is: ``ai_systems.0.version``
    changes that one value. Paths must stay inside the delivery (no absolute
    paths, no ``..``) and name each file once (``b.jpg`` and ``./b.jpg`` are
    one file). A UTF-8 byte order mark, as spreadsheets write, is accepted.
    """
    try:
        text = read_input_text(path, "a records manifest", "utf-8-sig", MANIFEST_LIMIT)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise DisclosureError(path, f"cannot read the records manifest: {reason}") from None
    rows = _json_rows(path, text) if path.suffix.lower() == ".json" else _csv_rows(path, text)
    entries: dict[str, ManifestRow] = {}
    for row in rows:
        if row.key in entries:
            raise DisclosureError(
                path, f"{entries[row.key].place} and {row.place} both give the record of {row.key}", "keep one"
            )
        entries[row.key] = row
    return entries


def _json_rows(path: Path, text: str) -> list[ManifestRow]:
    rows = []
    for key, value in _parse_json(path, text).items():
        place = f"entry {key!r}"
        if not isinstance(value, dict):
            raise DisclosureError(path, f"{place} is not an object of record fields")
        cell = ((), value, Origin(str(path), place, (1,)))
        rows.append(ManifestRow(_safe_relative(path, key, place), place, (cell,)))
    return rows


def _csv_rows(path: Path, text: str) -> list[ManifestRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        return _rows_of(path, reader)
    except csv.Error as exc:  # a cell over the csv module's limit, a NUL, an unclosed quote
        raise DisclosureError(path, f"line {reader.line_num} is not CSV the manifest can use: {exc}") from None


def _rows_of(path: Path, reader: Any) -> list[ManifestRow]:
    header = [name.strip() for name in next(reader, [])]
    if "path" not in header:
        raise DisclosureError(path, "a records CSV needs a 'path' column", "plus one column per field, e.g. ai_used")
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:
        raise DisclosureError(path, f"column {twice[0]!r} appears twice in the header")
    rows = []
    for number, cells in enumerate(reader, start=2):
        place = f"row {number}"
        if len(cells) > len(header):
            raise DisclosureError(path, f"{place} has more cells than the header has columns")
        named = dict(zip(header, cells, strict=False))
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        if named.get("", "").strip():
            raise DisclosureError(path, f"{place} has a value under a column with no name")
        given = [
            (column, name, cell)
            for column, (name, cell) in enumerate(named.items())
            if name not in ("path", "") and cell.strip()
        ]
        values = []
        for column, name, cell in given:
            key = field_path(name)
            values.append((key, value_from_text(key, cell), Origin(str(path), f"{place}, column {name}", (1, column))))
        rows.append(ManifestRow(_safe_relative(path, named.get("path", ""), place), place, tuple(values)))
    return rows


def _safe_relative(manifest: Path, name: str, place: str) -> str:
    relative = Path(name)
    if not name or relative.is_absolute() or ".." in relative.parts:
        raise DisclosureError(manifest, f"{place}: path {name!r} must be relative to the delivery, without '..'")
    return relative.as_posix()


def _parse_toml(path: Path, text: str) -> dict[str, Any]:
    _refuse_deep_text(path, text, is_json=False)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DisclosureError(path, f"not valid TOML: {exc}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    twice = next((key for key in keys if keys.count(key) > 1), None)
    if twice is not None:
        raise ValueError(f"the key {twice!r} appears twice in one object")
    return dict(pairs)


def _parse_json(path: Path, text: str) -> dict[str, Any]:
    _refuse_deep_text(path, text, is_json=True)
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise DisclosureError(path, f"not valid JSON at line {exc.lineno}: {exc.msg}") from None
    except ValueError as exc:
        raise DisclosureError(path, f"not valid as a record: {exc}") from None
    if not isinstance(data, dict):
        raise DisclosureError(path, "the record must be a JSON object")
    return data


def check_writable(record: DisclosureRecord, source: str | Path | None = None) -> None:
    """Refuse values that may be read but must not be written."""
    dst = record.digital_source_type
    if dst is not None and dst in RETIRED_SOURCE_TYPES:
        raise DisclosureError(
            source,
            f"digital_source_type {dst.value!r} is retired by IPTC",
            f"use {RETIRED_SOURCE_TYPES[dst].value!r}",
        )


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
output_status = "final"          # temporary (a stand-in, to be replaced) | final (stays in the deliverable)
personal_data = false            # the AI inputs or output include personal data (cast, crew, ...)
third_party_ip = false           # the AI inputs or output use or reference third-party IP

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
# What the tool did with the production's data (studio guidance: no storing, reusing or training on it).
[ai_systems.data_handling]
retains_inputs = false
trains_on_inputs = false
enterprise_secured = true
terms_reference = "Enterprise agreement EA-2026-03"

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
# separate_from_contract = true  # signed apart from the engagement contract's standard terms
# intended_use = "Background crowd extension in scenes 12-14 of Example Feature"
# scan_notice_hours = 72         # notice given this many hours before the scan (SAG-AFTRA: at least 48)
# project = "Example Feature"    # consent is per project
# represented_by = "union"       # union | counsel | none (California AB 2602)

# One [[approvals]] table per written approval. Studio guidance asks for one before
# proceeding when the output is a final deliverable or uses talent likeness,
# personal data or third-party IP.
[[approvals]]
category = "final-deliverable"   # final-deliverable | talent-likeness | personal-data | third-party-ip
reference = "APPROVAL-2026-0042"
date = 2026-09-28
approver = "Studio production executive"

[human_review]
status = "approved"              # approved | rejected | pending
reviewer = "QC Lead"
role = "VFX supervisor"
date = 2026-10-02T09:00:00Z

[qc]                             # written by `aidisclose approve`
by = "QC Lead"
role = "QC lead"
date = 2026-10-02T09:30:00Z

# --- synthetic-content transparency -----------------------------------------
[synthetic_content]
synthetic_person = false
real_person_recreation = false
audience_disclosure = true
disclosure_location = "end credits"
"""
