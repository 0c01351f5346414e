"""Check files against policies: a verdict per file, a result per rule, one report for the batch."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import IO, Any, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticSerializationError

from ._version import __version__
from .batch import Item, WalkOptions, imap_in_order, item_size, walk
from .carriers.base import file_sha256
from .carriers.c2pa.reading import C2paInfo, C2paState
from .carriers.c2pa.trust import TrustSettings
from .chinalabel import has_text
from .inspect import InspectResult, inspect_item, skip_digest
from .policy import DEFAULT_POLICY, Outcome, Policy, RuleResult, load_policy, run_policy
from .preview import thumbnail
from .rebuild import Conflict, Problem, Provenance
from .vocab import source_type_from_uri


class Verdict(StrEnum):
    passed = "pass"
    failed = "fail"
    error = "error"  # the file could not be read: exit code 2
    skipped = "skipped"  # met while walking a folder: plainly not media (by name and content), hidden, a link


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class RuleOutcome(_Model):
    policy: str
    rule: str
    level: str
    outcome: Outcome
    message: str
    expected: str
    actual: Any = None
    field: str | None = None
    carrier: str | None = Field(default=None, description="Where the value came from (carrier:key)")
    pillar: str | None = Field(default=None, description="The guidance pillar of the rule, as its policy names it")
    invalid: str | None = Field(
        default=None,
        description="Set when the file holds a value the record rejects: why. 'actual' is then that value, "
        "which rules do not read (they see the field as missing)",
    )


class C2paSummary(_Model):
    """What a reviewer needs of the file's C2PA manifest store: its state, who signed, what is wrong."""

    state: C2paState
    signer: str | None = Field(default=None, description="The signing certificate's common name")
    signed_at: str | None = None
    message: str | None = Field(default=None, description="Why the manifest is invalid, in words")
    codes: list[str] = []


class FileCheck(_Model):
    path: str
    verdict: Verdict
    format: str | None = None
    sha256: str | None = None
    size: int | None = None
    reason: str | None = Field(default=None, description="Why the file could not be checked (error, skipped)")
    record: dict[str, Any] | None = None
    c2pa: C2paSummary | None = None
    conflicts: list[Conflict] = Field(default=[], description="Carriers that hold different values for a field")
    problems: list[Problem] = Field(default=[], description="Values found that the record rejects (not used)")
    results: list[RuleOutcome] = []
    #: The HTML report's picture (a PNG data URI), made where the file is read; never in the JSON report.
    thumbnail: SkipJsonSchema[str | None] = Field(default=None, exclude=True)

    def count(self, outcome: Outcome) -> int:
        return sum(r.outcome == outcome for r in self.results)

    #: Its JSON report entry (indented), when it came from a worker process that wrote it: the parent then
    #: writes it as it came rather than serialise the file's twenty-odd models a second time.
    _report_json: str | None = PrivateAttr(default=None)

    def __reduce__(self) -> tuple[Any, ...]:
        # Every file's result crosses from a worker process: as its JSON, which pydantic writes and reads
        # in compiled code, it costs a third of the pickled state of its twenty-odd models. Written as the
        # JSON report writes it, it is also that report's entry.
        try:
            return (_restore, (self.report_json(), self.thumbnail))
        except PydanticSerializationError:  # a file name that is not UTF-8 has no JSON form: its state, as is
            return (_from_state, (type(self), self.__getstate__()))

    def report_json(self) -> str:
        """This file's entry of the JSON report (``model_dump_json(indent=2)``); PydanticSerializationError for a
        file name that is not UTF-8 (``display.model_json`` writes those)."""
        return self._report_json if self._report_json is not None else self.model_dump_json(indent=2)

    def __eq__(self, other: object) -> bool:
        # Its JSON text, kept from a worker or not, is no part of the result: what it says is.
        if not isinstance(other, BaseModel):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # as before: its lists make it unhashable

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        copy = super().model_copy(update=update, deep=deep)
        if update and any(name != "thumbnail" for name in update):  # the picture is not in the JSON
            copy._report_json = None
        return copy


def _restore(data: str, picture: str | None) -> FileCheck:
    file = FileCheck.model_validate_json(data)
    if picture:
        file = file.model_copy(update={"thumbnail": picture})
    file._report_json = data
    return file


def _from_state(cls: type[FileCheck], state: dict[Any, Any]) -> FileCheck:
    """A FileCheck unpickled from its state, for results JSON cannot carry."""
    check = cls.__new__(cls)
    check.__setstate__(state)
    return check


class PolicyInfo(_Model):
    name: str
    description: str
    sha256: str
    sources: list[str]
    references: list[str] = Field(default=[], description="The laws and guidance the policy checks")


class Summary(_Model):
    files: int
    passed: int
    failed: int
    errors: int
    skipped: int

    @property
    def nothing_checked(self) -> bool:
        """No file was checked at all (every one skipped, or none found): never a pass."""
        return not (self.passed or self.failed or self.errors)

    @property
    def exit_code(self) -> int:
        """0 every file passes; 1 a policy failure; 2 a file that could not be read, or no file checked."""
        if self.errors or self.nothing_checked:
            return 2
        return 1 if self.failed else 0


class CheckReport(_Model):
    """The JSON report of `aidisclose check` (stable; see `aidisclose schema --report`)."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"$id": "https://aidisclose.org/schema/report/1.json"})

    report_version: int = 1
    tool: str = "aidisclose"
    tool_version: str = __version__
    started_at: str
    duration_s: float
    strict: bool
    digest: str = Field(
        default="sha256",
        description="How each file was identified: sha256, or none when --digest none skipped the full read "
        "(each file's sha256 is then null: nothing was checked against the bytes)",
    )
    policies: list[PolicyInfo]
    summary: Summary
    files: list[FileCheck]

    @property
    def exit_code(self) -> int:
        """0 all pass; 1 a policy failure; 2 a file that could not be read, or no file checked."""
        return self.summary.exit_code


def policy_subject(result: InspectResult, record: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """What rules read: the ``record`` (as JSON), ``provenance`` facts and ``c2pa``; and each field's carrier."""
    prov = result.provenance
    subject = dict(record)
    c2pa: dict[str, Any] = {
        "state": result.c2pa.state,
        "codes": result.c2pa.codes,
        "ingredients_invalid": len(result.c2pa.failed_ingredients),
    }
    if result.c2pa.digital_source_types:
        c2pa["digital_source_type"] = result.c2pa.digital_source_types[-1]
    if result.c2pa.sidecar is not None:
        c2pa["sidecar"] = result.c2pa.sidecar  # the manifest is in NAME.EXT.c2pa beside the file, not in it
    c2pa.update(_provenance_chain(result.c2pa))
    subject["c2pa"] = c2pa
    subject["not_checked"] = dict(NOT_CHECKED)
    subject["provenance"] = {
        "carriers": prov.carriers,
        "stamped_by_aidisclose": prov.stamped_by_aidisclose,
        "sources": prov.sources,
        "conflict_count": len(prov.conflicts),
        "problem_count": len(prov.problems),
        "china_label": china_label_facts(prov),
    }
    if prov.sidecar is not None:  # absent, not null, when the file carries its own metadata: `exists` reads it
        subject["provenance"]["sidecar"] = prov.sidecar
    if prov.iptc_digital_source_type is not None:
        subject["provenance"]["iptc_digital_source_type"] = prov.iptc_digital_source_type
    return subject, prov.sources


#: What no file's reading can tell, each with the reason: a rule on one is told this, never passes.
NOT_CHECKED = {
    "watermark": "not checked: aidisclose reads metadata only, not imperceptible watermarks in the essence "
    "(EU Code of Practice 1.1.2); check them with the watermark vendor's detector",
    "explicit_label": "not checked: a label people see or hear is in the picture or sound, not in metadata "
    "(GB 45438-2025 explicit label); check it by eye and ear",
}


def _provenance_chain(info: C2paInfo) -> dict[str, Any]:
    """The C2PA facts of signing time and upstream provenance (EU Code of Practice 1.1.1 and 1.2)."""
    facts: dict[str, Any] = {}
    if info.state is C2paState.NONE:
        return facts
    if info.timestamp is not None:
        facts["timestamp"] = info.timestamp  # trusted, validated (TSA not trusted), or its failure codes
    created = [
        a["digitalSourceType"]
        for a in info.actions
        if a.get("action") == "c2pa.created" and isinstance(a.get("digitalSourceType"), str)
    ]
    if created:
        facts["created_source_type"] = source_type_from_uri(created[0])
    if info.claim_version is not None:
        facts["claim_version"] = info.claim_version
    parents = [i for i in info.ingredients if i.relationship == "parentOf"]
    facts["ingredient_count"] = len(info.ingredients)
    facts["ingredient_manifest_count"] = sum(i.state is not C2paState.NONE for i in info.ingredients)
    facts["has_parent"] = bool(parents)
    facts["parent_has_manifest"] = any(i.state is not C2paState.NONE for i in parents)
    return facts


_CHINA_FACTS = {
    "label": "Label",
    "content_producer": "ContentProducer",
    "produce_id": "ProduceID",
    "content_propagator": "ContentPropagator",
    "propagate_id": "PropagateID",
}


def china_label_facts(prov: Provenance) -> dict[str, Any]:
    """What rules read of China's implicit label: whether there is one, its keys that hold text (not only
    spaces, controls or invisible marks), where it is, and whether every label the file holds says the same."""
    facts: dict[str, Any] = {"present": prov.china_label is not None}
    if prov.china_label is not None:
        fields = prov.china_label.fields
        facts.update({name: fields[key] for name, key in _CHINA_FACTS.items() if has_text(fields.get(key, ""))})
        facts["source"] = prov.china_label.source
        facts["agree"] = all(r.fields == fields for r in prov.china_label.readings)
    return facts


def _rejected(result: RuleResult, subject: dict[str, Any], problems: list[Problem]) -> Problem | None:
    """The value the record rejected for the field a rule found missing, if the file holds one."""
    if result.field is None or result.outcome not in (Outcome.failed, Outcome.warned):
        return None
    value: Any = subject
    for part in result.field.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            break
    else:
        return None  # the field is there: what the rule found is its value
    top = result.field.split(".", 1)[0]
    return next((p for p in problems if p.field == top), None)


def _outcome(result: RuleResult, subject: dict[str, Any], problems: list[Problem]) -> RuleOutcome:
    rejected = _rejected(result, subject, problems)
    # Validated from a dict as RuleOutcome(**fields) validates its keywords, in half the time: twenty a file.
    return _rule_outcome(
        {
            "policy": result.policy,
            "rule": result.rule,
            "level": result.level.value,
            "outcome": result.outcome,
            "message": result.message,
            "expected": result.expected,
            "actual": rejected.value if rejected else result.actual,
            "field": result.field,
            "carrier": rejected.source if rejected else result.carrier,
            "pillar": result.pillar,
            "invalid": rejected.reason if rejected else None,
        }
    )


def _rule_outcome(fields: dict[str, Any]) -> RuleOutcome:
    outcome: RuleOutcome = RuleOutcome.__pydantic_validator__.validate_python(fields)
    return outcome


def judge(
    inspected: InspectResult, record: dict[str, Any], policies: list[Policy], strict: bool
) -> tuple[list[RuleOutcome], Verdict]:
    """Every rule's outcome for a file read as ``inspected`` whose record (as JSON) is ``record``; the verdict.

    ``record`` is the file's own, or the one it will carry once a change is written (``approve``).
    """
    subject, sources = policy_subject(inspected, record)
    problems = inspected.provenance.problems
    rejected = {p.field for p in problems}
    results = [
        _outcome(r, subject, problems) for policy in policies for r in run_policy(policy, subject, sources, rejected)
    ]
    failing = {Outcome.failed, Outcome.warned} if strict else {Outcome.failed}
    return results, Verdict.failed if any(r.outcome in failing for r in results) else Verdict.passed


def check_file(
    path: Path, policies: list[Policy], strict: bool = False, named: bool = True, trust: TrustSettings | None = None
) -> FileCheck:
    """One file's verdict: read every carrier, run every rule of every policy.

    A file met while walking a folder (``named=False``) that is plainly not media,
    by name and content, is skipped; any other file that cannot be read is an error.
    """
    return _check_item(Item(path, None if named else path.parent), policies, strict, trust)


def check_item(
    item: Item, policies: list[Policy], strict: bool, trust: TrustSettings | None, thumbnails: bool = False
) -> FileCheck:
    """One walked item's verdict (a skipped or unreadable one as such), with its picture if ``thumbnails``."""
    return _check_item(item, policies, strict, trust, thumbnails)


def _check_item(
    item: Item,
    policies: list[Policy],
    strict: bool,
    trust: TrustSettings | None,
    thumbnails: bool = False,
    sha256_of: Callable[[Path], str | None] = file_sha256,
    manifest_stream: Callable[[], AbstractContextManager[IO[bytes]]] | None = None,
) -> FileCheck:
    outcome = inspect_item(item, trust, technical=False, sha256_of=sha256_of, manifest_stream=manifest_stream)
    if outcome.skipped is not None:
        return FileCheck(path=str(item.path), verdict=Verdict.skipped, reason=outcome.skipped)
    if outcome.result is None:
        return FileCheck(path=str(item.path), verdict=Verdict.error, reason=outcome.error)
    inspected = outcome.result
    record = inspected.record.to_json_dict()
    results, verdict = judge(inspected, record, policies, strict)
    return file_check_of(item, inspected, record, results, verdict, thumbnails)


def file_check_of(
    item: Item,
    inspected: InspectResult,
    record: dict[str, Any],
    results: list[RuleOutcome],
    verdict: Verdict,
    thumbnails: bool = False,
) -> FileCheck:
    """The report row of a file read as ``inspected``, judged on ``record`` as ``results`` and ``verdict``."""
    c2pa = inspected.c2pa
    return FileCheck(
        path=str(item.path),
        verdict=verdict,
        format=inspected.format,
        sha256=inspected.sha256,
        size=inspected.size,
        record=record,
        c2pa=C2paSummary(
            state=c2pa.state,
            signer=c2pa.signer.get("common_name"),
            signed_at=c2pa.signed_at,
            message=c2pa.message,
            codes=c2pa.codes,
        ),
        conflicts=inspected.provenance.conflicts,
        problems=inspected.provenance.problems,
        results=results,
        thumbnail=thumbnail(item.path, inspected.format) if thumbnails else None,
    )


def iter_checks(
    items: Iterable[Item],
    policies: list[Policy],
    strict: bool = False,
    trust: TrustSettings | None = None,
    jobs: int = 1,
    thumbnails: bool = False,
    digest: bool = True,
) -> Iterator[FileCheck]:
    """Each file's result, in walk order, as soon as it (and every file before it) is done.

    ``thumbnails`` makes each file's picture for the HTML report in the process that reads it;
    without ``digest`` no file is read whole for its SHA-256 (``--digest none``).
    """
    sha256_of = file_sha256 if digest else skip_digest
    work = partial(
        _check_item, policies=policies, strict=strict, trust=trust, thumbnails=thumbnails, sha256_of=sha256_of
    )
    return imap_in_order(work, items, jobs, item_size)


def check_paths(
    paths: Iterable[Path],
    policies: list[Policy] | None = None,
    strict: bool = False,
    on_file: Callable[[FileCheck], None] | None = None,
    trust: TrustSettings | None = None,
    jobs: int = 1,
    walk_options: WalkOptions | None = None,
    items: list[Item] | None = None,
    digest: bool = True,
) -> CheckReport:
    """Check files and folders (walked recursively) against ``policies`` (default: genai-production).

    ``jobs`` processes share the work; the report lists files in walk order whatever ``jobs`` is.
    ``items`` may be given pre-walked (to size a progress bar); otherwise ``paths`` are walked.
    The whole report is kept in memory: for very large batches, ``iter_checks`` streams instead.
    """
    policies = policies if policies is not None else [load_policy(DEFAULT_POLICY)]
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    todo = items if items is not None else list(walk(paths, walk_options or WalkOptions()))
    files = []
    for checked in iter_checks(todo, policies, strict, trust, jobs if len(todo) > 1 else 1, digest=digest):
        files.append(checked)
        if on_file:
            on_file(checked)
    return build_report(files, policies, strict, started, time.perf_counter() - clock, digest)


def summarise(files: Iterable[FileCheck]) -> Summary:
    return summary_of([f.verdict for f in files])


def summary_of(verdicts: list[Verdict]) -> Summary:
    return Summary(
        files=len(verdicts),
        passed=verdicts.count(Verdict.passed),
        failed=verdicts.count(Verdict.failed),
        errors=verdicts.count(Verdict.error),
        skipped=verdicts.count(Verdict.skipped),
    )


def policy_infos(policies: list[Policy]) -> list[PolicyInfo]:
    return [
        PolicyInfo(
            name=p.name,
            description=p.description,
            sha256=p.sha256,
            sources=list(p.sources),
            references=list(p.references),
        )
        for p in policies
    ]


@dataclass(frozen=True)
class ReportHead:
    """What a report states before its first file: when, how strictly, against which policies."""

    started_at: str
    strict: bool
    policies: list[PolicyInfo]
    tool_version: str = __version__
    digest: str = "sha256"

    @classmethod
    def of(cls, report: CheckReport) -> ReportHead:
        return cls(report.started_at, report.strict, report.policies, report.tool_version, report.digest)


def report_time(started: dt.datetime) -> str:
    return started.isoformat(timespec="seconds").replace("+00:00", "Z")


def build_report(
    files: list[FileCheck],
    policies: list[Policy],
    strict: bool,
    started: dt.datetime,
    seconds: float,
    digest: bool = True,
) -> CheckReport:
    """The report for ``files``: counts, policies with their hashes, the run's start and length."""
    return CheckReport(
        started_at=report_time(started),
        duration_s=round(seconds, 3),
        strict=strict,
        digest="sha256" if digest else "none",
        policies=policy_infos(policies),
        summary=summarise(files),
        files=files,
    )


def report_json_schema() -> dict[str, Any]:
    return CheckReport.model_json_schema()
