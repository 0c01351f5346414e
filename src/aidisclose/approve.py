"""QC approval: check each file as it will stand once approved, write the review into those that pass.

A file is approved when it passes every policy with this review recorded in it (the approval is the
human review the guidance asks for): ``qc`` {by, role, date} is merged into the record the file's
carriers hold, and ``human_review`` (approved, by the reviewer) too where a policy reads it. Every
other value stays as it was. The record is written in place through ``stamp``: atomic, verified, the
essence unchanged; a file with C2PA content credentials is signed again, its earlier manifest kept as
the parent ingredient. The written file is then checked again; that check's verdict is the file's.

A file that fails, cannot be read, or cannot be written without losing something (values the record
rejects, a review that rejected it, credentials without ``--sign``) is left untouched and listed with why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .batch import Item, imap_in_order, item_size
from .carriers.base import file_sha256
from .carriers.c2pa.identity import SigningIdentity
from .carriers.c2pa.place import sidecar_manifest_path
from .carriers.c2pa.reading import C2paState
from .carriers.c2pa.trust import TrustSettings
from .check import FileCheck, PolicyInfo, RuleOutcome, Verdict, check_item, file_check_of, judge, summary_of
from .display import raw_bytes_b64, utf8_text
from .errors import DisclosureError
from .formats import detect
from .inspect import inspect_item
from .policy import Outcome, Policy
from .rebuild import rebuild_record
from .record import DisclosureRecord, HumanReview, QualityControl
from .signoff import ApprovedFile, Companion, NotApprovedFile, SignoffDocument
from .stamp import stamp


@dataclass(frozen=True)
class Reviewer:
    """Who signs off: a name, a role and notes, each checked as the record checks its text."""

    name: str
    role: str | None = None
    notes: str | None = None

    def validated(self, date: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ``qc`` and ``human_review`` values this review writes (as JSON); refuses text no record holds."""
        try:
            qc = QualityControl.model_validate({"by": self.name, "role": self.role, "date": date})
            review = HumanReview.model_validate(
                {"status": "approved", "reviewer": self.name, "role": self.role, "date": date, "notes": self.notes}
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "value"
            raise DisclosureError("approve", f"--reviewer/--role/--notes: {where}: {problem['msg']}") from None
        if not self.name.strip():
            raise DisclosureError("approve", "--reviewer is empty", "give the reviewer's name")
        return qc.model_dump(mode="json", exclude_none=True), review.model_dump(mode="json", exclude_none=True)


def _fields_named(expression: Any) -> Iterator[str]:
    """Every record field a rule's test or condition names (``field`` keys and ``"@other.field"`` values)."""
    if isinstance(expression, dict):
        for key, value in expression.items():
            if key == "field" and isinstance(value, str):
                yield value
            else:
                yield from _fields_named(value)
    elif isinstance(expression, list):
        for value in expression:
            yield from _fields_named(value)
    elif isinstance(expression, str) and expression.startswith("@"):
        yield expression[1:]


def asks_for_review(policies: list[Policy]) -> bool:
    """Whether any rule (that is not off) reads ``human_review``: then the approval is written there too."""
    for policy in policies:
        for rule in policy.rules:
            for name in (*_fields_named(rule.test), *_fields_named(rule.when or {})):
                if name == "human_review" or name.startswith("human_review."):
                    return True
    return False


@dataclass(frozen=True)
class ApproveJob:
    """What every file of a run is approved against, and with what: picklable, for the worker processes."""

    policies: list[Policy]
    qc: dict[str, Any]
    review: dict[str, Any] | None  # None: no policy reads human_review, so it is left as it is
    signing: SigningIdentity | None = None
    strict: bool = False
    trust: TrustSettings | None = None
    thumbnails: bool = False


@dataclass(frozen=True)
class FileApproval:
    """One file's approval: approved or not (with why), its digests and the check to report."""

    path: str
    relative: str
    given: str
    approved: bool
    check: FileCheck  # after approval for an approved file; as it stands (judged with the review) otherwise
    reason: str | None = None
    sha256_before: str | None = None
    c2pa_resigned: bool = False
    notes: tuple[str, ...] = ()
    sidecars: tuple[Companion, ...] = field(default_factory=tuple)

    @property
    def verdict(self) -> Verdict:
        return self.check.verdict


def _names(item: Item) -> tuple[str, str]:
    return item.relative.as_posix(), str(item.root if item.root is not None else item.path)


def _refused(item: Item, verdict: Verdict, reason: str, base: FileCheck | None = None) -> FileApproval:
    relative, given = _names(item)
    check = base or FileCheck(path=str(item.path), verdict=verdict, reason=reason)
    return FileApproval(str(item.path), relative, given, False, check, reason, base.sha256 if base else None)


def _failing_rules(results: list[RuleOutcome], strict: bool) -> list[str]:
    failing = {Outcome.failed, Outcome.warned} if strict else {Outcome.failed}
    return [r.rule for r in results if r.outcome in failing]


def approve_item(item: Item, job: ApproveJob) -> FileApproval:
    """Approve one walked item (see the module's docstring); never raises."""
    try:
        return _approve(item, job)
    except DisclosureError as err:
        return _refused(item, Verdict.error, err.one_line())
    except Exception as exc:  # a bug must not stop the batch; the line says it is one
        from .errors import unexpected

        return _refused(item, Verdict.error, unexpected(item.path, exc))


def _approve(item: Item, job: ApproveJob) -> FileApproval:
    outcome = inspect_item(item, job.trust, technical=False)
    if outcome.skipped is not None:
        return _refused(item, Verdict.skipped, outcome.skipped)
    if outcome.result is None:
        return _refused(item, Verdict.error, outcome.error or f"{item.path}: could not be read")
    inspected = outcome.result
    as_it_stands = inspected.record.to_json_dict()
    results, verdict = judge(inspected, _with_review(as_it_stands, job), job.policies, job.strict)
    # A file left as it was is reported with its own record, and the rules that kept it from approval.
    as_judged = file_check_of(item, inspected, as_it_stands, results, verdict, job.thumbnails)
    if verdict is not Verdict.passed:
        rules = ", ".join(_failing_rules(results, job.strict))
        return _refused(item, Verdict.failed, f"{item.path}: fails the policy ({rules}); left as it was", as_judged)
    stored = detect(item.path).store.read(item.path)
    own, provenance = rebuild_record(stored)  # what the carriers hold, without the values a manifest fills in
    if provenance.problems:
        fields = ", ".join(sorted({p.field for p in provenance.problems}))
        reason = f"{item.path}: holds values the record rejects ({fields}); writing the approval would drop them"
        return _refused(item, Verdict.error, reason + "; fix them, then approve", _as_error(as_judged, reason))
    current = own.human_review
    if job.review is not None and current is not None and current.status.value == "rejected":
        reason = f"{item.path}: its human review ({current.reviewer or 'unnamed'}) rejected it; left as it was"
        return _refused(item, Verdict.failed, reason, _as_error(as_judged, reason, Verdict.failed))
    record = DisclosureRecord.model_validate(_with_review(own.to_json_dict(), job))
    signing = job.signing if inspected.c2pa.state is not C2paState.NONE else None
    before = inspected.sha256
    try:
        stamped = stamp(item.path, record, in_place=True, signing=signing)
    except DisclosureError as err:  # refused or undone by stamp: the file is as it was
        return _refused(item, Verdict.error, err.one_line(), _as_error(as_judged, err.one_line()))
    after = check_item(item, job.policies, job.strict, job.trust, job.thumbnails)
    relative, given = _names(item)
    return FileApproval(
        path=str(item.path),
        relative=relative,
        given=given,
        approved=True,
        check=after,
        sha256_before=before,
        c2pa_resigned=stamped.manifest is not None,
        notes=stamped.notes,
        sidecars=tuple(_companions(item)),
    )


def _as_error(check: FileCheck, reason: str, verdict: Verdict = Verdict.error) -> FileCheck:
    return check.model_copy(update={"verdict": verdict, "reason": reason})


def _with_review(record: dict[str, Any], job: ApproveJob) -> dict[str, Any]:
    merged = {**record, "qc": job.qc}
    if job.review is not None:
        merged["human_review"] = job.review
    return merged


def _companions(item: Item) -> Iterator[Companion]:
    """The media's XMP and C2PA sidecars that exist, with their digests."""
    store = detect(item.path).store
    for sidecar in (store.sidecar_of(item.path), sidecar_manifest_path(item.path)):
        if sidecar is not None and sidecar.is_file():
            relative = (item.relative.parent / sidecar.name).as_posix()
            yield Companion(path=relative, sha256=file_sha256(sidecar))


def _once(items: Iterable[Item]) -> Iterator[Item]:
    """Each file approved once, however often it was named (twice, by a hard link, or met in a folder given too).

    Each later name is skipped with why, so the summary accounts for every name given.
    """
    seen: dict[tuple[int, int], Path] = {}
    for item in items:
        try:
            info = item.path.stat()
        except OSError:  # missing or unreadable: approving it says so
            yield item
            continue
        first = seen.setdefault((info.st_dev, info.st_ino), item.path)
        if first is item.path or item.skip or item.error:
            yield item
        else:
            same = "named more than once" if first == item.path else f"the same file as {first}"
            yield replace(item, skip=f"{same}; approved once")


def iter_approvals(items: Iterable[Item], job: ApproveJob, jobs: int = 1) -> Iterator[FileApproval]:
    """Each file's approval in walk order, as soon as it (and every file before it) is done."""
    return imap_in_order(partial(approve_item, job=job), _once(items), jobs, item_size)


def review_time() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def signoff_document(
    approvals: list[FileApproval], reviewer: Reviewer, date: str, policies: list[PolicyInfo], strict: bool
) -> SignoffDocument:
    """The sign-off document of a run: the approved files with their digests, the others with why."""
    files, others = [], []
    for a in approvals:
        results = list(a.check.results)
        path, raw = utf8_text(a.relative), raw_bytes_b64(a.relative)
        if a.approved and a.sha256_before is not None and a.check.sha256 is not None:
            files.append(
                ApprovedFile(
                    path=path, path_bytes_b64=raw, given=utf8_text(a.given), format=a.check.format,
                    sha256_before=a.sha256_before,
                    sha256_after=a.check.sha256, verdict=a.verdict, c2pa_resigned=a.c2pa_resigned,
                    sidecars=list(a.sidecars), results=results,
                )
            )  # fmt: skip
        else:
            reason = a.reason or a.check.reason or "not approved"
            if a.approved:  # written, yet the check after it could not read the file
                reason = f"approved, but the check after approval failed: {a.check.reason}"
            others.append(
                NotApprovedFile(
                    path=path, path_bytes_b64=raw, given=utf8_text(a.given), verdict=a.verdict,
                    reason=utf8_text(reason), sha256=a.check.sha256, results=results,
                )
            )  # fmt: skip
    return SignoffDocument(
        reviewer=reviewer.name,
        role=reviewer.role,
        notes=reviewer.notes,
        signed_off_at=date,
        strict=strict,
        policies=policies,
        summary=summary_of([a.verdict for a in approvals]),
        files=files,
        not_approved=others,
    )
