"""Every rule of every built-in profile: a record that passes it and one that fails it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aidisclose import load_record
from aidisclose.policy import Outcome, builtin_names, load_policy, run_policy

from .conftest import EXAMPLE_RECORD

BASE = load_record(EXAMPLE_RECORD).to_json_dict()
DST_FROM_XMP = "xmp:Xmp.iptcExt.DigitalSourceType"
DELETE = object()


def subject(
    changes: dict[str, Any] | None = None,
    provenance: dict[str, Any] | None = None,
    c2pa: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The example record with ``changes`` ("a.b.0.c"; DELETE removes), provenance and c2pa, as check builds it."""
    data = copy.deepcopy(BASE)
    for path, value in (changes or {}).items():
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
        if value is DELETE:
            target.pop(last, None)
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    data["provenance"] = {
        "conflict_count": 0,
        "problem_count": 0,
        "sources": {"digital_source_type": DST_FROM_XMP, "ai_used": "xmp:Xmp.aidisclose.AiUsed"},
        **(provenance or {}),
    }
    data["c2pa"] = c2pa or {"state": "none", "codes": []}
    return data


def outcome_of(profile: str, rule_id: str, data: dict[str, Any]) -> tuple[Outcome, Any, str]:
    policy = load_policy(profile)
    sources = data["provenance"]["sources"]
    (result,) = [r for r in run_policy(policy, data, sources) if r.rule == rule_id]
    return result.outcome, result.actual, result.expected


SYNTHETIC_PERFORMER = {
    "likeness.0.replica_type": "synthetic-performer",
    "synthetic_content.synthetic_person": True,
    "synthetic_content.union_notice_reference": "SAG-NOTICE-17",
}
DOCUMENTARY_RECREATION = {"genre": "documentary", "synthetic_content.real_person_recreation": True}

# (profile, rule, changes that pass, changes that fail, outcome on failure, actual value reported on failure)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], Outcome, Any]] = [
    ("genai-production", "attribution.ai-used-declared", {}, {"ai_used": DELETE}, Outcome.failed, "missing"),
    (
        "genai-production",
        "attribution.ai-source-type",
        {},
        {"digital_source_type": "digitalCapture"},
        Outcome.failed,
        "digitalCapture",
    ),
    ("genai-production", "attribution.ai-systems-named", {}, {"ai_systems": []}, Outcome.failed, 0),
    (
        "genai-production",
        "attribution.no-ai-source-type-without-ai",
        {"ai_used": False, "digital_source_type": "digitalCapture"},
        {"ai_used": False},
        Outcome.failed,
        "compositeWithTrainedAlgorithmicMedia",
    ),
    ("genai-production", "attribution.credit-line", {}, {"ai_credit_line": DELETE}, Outcome.warned, "missing"),
    ("genai-production", "attribution.training-mining", {}, {"training_mining": DELETE}, Outcome.warned, "missing"),
    (
        "genai-production",
        "consent.likeness-granted",
        {},
        {"likeness.0.consent.status": "pending"},
        Outcome.failed,
        "pending",
    ),
    (
        "genai-production",
        "consent.deceased-by-estate",
        {"likeness.0.deceased": True, "likeness.0.consent.granted_by": "estate"},
        {"likeness.0.deceased": True},
        Outcome.failed,
        "self",
    ),
    (
        "genai-production",
        "consent.before-generation",
        {},
        {"likeness.0.consent.date": "2026-10-05"},
        Outcome.failed,
        "2026-10-05",
    ),
    (
        "genai-production",
        "consent.training-data-provenance",
        {},
        {"training_data.provenance": "unknown"},
        Outcome.warned,
        "unknown",
    ),
    (
        "genai-production",
        "oversight.final-approval-reference",
        {},
        {"approval_reference": DELETE},
        Outcome.failed,
        "missing",
    ),
    (
        "genai-production",
        "oversight.final-review-approved",
        {},
        {"human_review.status": "pending"},
        Outcome.failed,
        "pending",
    ),
    (
        "genai-production",
        "oversight.review-after-generation",
        {},
        {"human_review.date": "2026-09-30T09:00:00Z"},
        Outcome.failed,
        "2026-09-30T09:00:00Z",
    ),
    (
        "genai-production",
        "oversight.likeness-approval",
        {},
        {"approval_reference": DELETE, "deliverable": "temp"},
        Outcome.failed,
        "missing",
    ),
    (
        "genai-production",
        "transparency.synthetic-performer",
        SYNTHETIC_PERFORMER,
        {**SYNTHETIC_PERFORMER, "synthetic_content.union_notice_reference": DELETE},
        Outcome.failed,
        "missing",
    ),
    (
        "genai-production",
        "transparency.real-person-recreation",
        DOCUMENTARY_RECREATION,
        {**DOCUMENTARY_RECREATION, "synthetic_content.audience_disclosure": False},
        Outcome.failed,
        False,
    ),
    (
        "genai-production",
        "transparency.prompts-personal-data",
        {},
        {"prompts.0.text": "sky like in the photo jo@example.com sent"},
        Outcome.warned,
        "sky like in the photo jo@example.com sent",
    ),
    ("eu-ai-act-art50", "eu.ai-use-declared", {}, {"ai_used": DELETE}, Outcome.failed, "missing"),
    ("eu-ai-act-art50", "eu.mark-is-ai-term", {}, {"digital_source_type": "humanEdits"}, Outcome.failed, "humanEdits"),
    (
        "eu-ai-act-art50",
        "eu.deep-fake-disclosed",
        {"synthetic_content.real_person_recreation": True},
        {"synthetic_content.real_person_recreation": True, "synthetic_content.audience_disclosure": False},
        Outcome.failed,
        False,
    ),
    ("ca-sb942", "sb942.ai-use-declared", {}, {"ai_used": DELETE}, Outcome.failed, "missing"),
    ("ca-sb942", "sb942.ai-marked", {}, {"digital_source_type": "humanEdits"}, Outcome.failed, "humanEdits"),
    ("ca-sb942", "sb942.provider", {}, {"ai_systems.1.provider": DELETE}, Outcome.failed, "missing"),
    ("ca-sb942", "sb942.system-name-and-version", {}, {"ai_systems.0.version": DELETE}, Outcome.failed, "missing"),
    ("ca-sb942", "sb942.creation-time", {}, {"generated_at": DELETE}, Outcome.failed, "missing"),
    ("ca-sb942", "sb942.unique-id", {}, {"asset_id": DELETE}, Outcome.failed, "missing"),
    ("china-gb45438", "gb45438.ai-use-declared", {}, {"ai_used": DELETE}, Outcome.failed, "missing"),
]

# Rules whose pass/fail is decided by provenance rather than by the record.
PROVENANCE_CASES = [
    ("genai-production", "metadata.carriers-agree", {}, {"conflict_count": 1}, Outcome.failed, 1),
    (
        "eu-ai-act-art50",
        "eu.machine-readable-mark",
        {},
        {"sources": {"digital_source_type": "vorbis:AIDISCLOSE_RECORD/digital_source_type"}},
        Outcome.failed,
        "vorbis:AIDISCLOSE_RECORD/digital_source_type",
    ),
]

# China's implicit label as check exposes it (check.china_label_facts): one stamped with --label china.
CHINA_LABEL = {
    "present": True,
    "label": "1",
    "content_producer": "Example AI Inc.; Replica Labs",
    "produce_id": "SHOT010_V003",
    "source": "xmp:Xmp.TC260.AIGC",
    "explicit_label_checked": False,
}
NO_CHINA_LABEL = {"present": False, "explicit_label_checked": False}
CHINA_LABEL_CASES = [
    (
        "china-gb45438",
        "gb45438.implicit-label-present",
        {"china_label": CHINA_LABEL},
        {"china_label": NO_CHINA_LABEL},
        Outcome.failed,
        False,
    ),
    (
        "china-gb45438",
        "gb45438.label-matches-ai-use",
        {"china_label": CHINA_LABEL},
        {"china_label": {**CHINA_LABEL, "label": "2"}},
        Outcome.failed,
        "2",
    ),
    (
        "china-gb45438",
        "gb45438.content-producer",
        {"china_label": CHINA_LABEL},
        {"china_label": {k: v for k, v in CHINA_LABEL.items() if k != "content_producer"}},
        Outcome.failed,
        "missing",
    ),
    (
        "china-gb45438",
        "gb45438.produce-id",
        {"china_label": CHINA_LABEL},
        {"china_label": {k: v for k, v in CHINA_LABEL.items() if k != "produce_id"}},
        Outcome.failed,
        "missing",
    ),
]
PROVENANCE_CASES += CHINA_LABEL_CASES
# Rules that report what aidisclose cannot check: they never pass, whatever the file holds.
NOT_CHECKED = [("china-gb45438", "gb45438.explicit-label-not-checked")]

VALID = {
    "state": "valid",
    "codes": ["signingCredential.untrusted"],
    "digital_source_type": "compositeWithTrainedAlgorithmicMedia",
}
# Rules that read the C2PA state: (profile, rule, c2pa that passes, c2pa that fails, actual reported on failure)
C2PA_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], Any]] = [
    (
        "genai-production",
        "metadata.c2pa-source-type-agrees",
        VALID,
        {**VALID, "digital_source_type": "trainedAlgorithmicMedia"},
        "trainedAlgorithmicMedia",
    ),
    ("genai-production", "metadata.c2pa-not-tampered", {"state": "none"}, {"state": "invalid"}, "invalid"),
    ("c2pa-strict", "c2pa.manifest-present", VALID, {"state": "none"}, "none"),
    ("c2pa-strict", "c2pa.manifest-valid", VALID, {"state": "invalid"}, "invalid"),
    ("c2pa-strict", "c2pa.signer-trusted", {**VALID, "state": "trusted"}, VALID, "valid"),
    (
        "c2pa-strict",
        "c2pa.ingredients-valid",
        {**VALID, "ingredients_invalid": 0},
        {**VALID, "ingredients_invalid": 1},
        1,
    ),
]
C2PA_RULES = [(p, r) for p, r, *_ in C2PA_CASES]


def test_every_builtin_rule_has_a_case() -> None:
    covered = {(p, r) for p, r, *_ in CASES + PROVENANCE_CASES} | set(C2PA_RULES) | set(NOT_CHECKED)
    every = {(name, rule.id) for name in builtin_names() for rule in load_policy(name).rules}
    assert every == covered


@pytest.mark.parametrize(
    ("profile", "rule", "passing", "failing", "outcome", "actual"), CASES, ids=[c[1] for c in CASES]
)
def test_rule_passes_and_fails(
    profile: str, rule: str, passing: dict[str, Any], failing: dict[str, Any], outcome: Outcome, actual: Any
) -> None:
    assert outcome_of(profile, rule, subject(passing))[0] is Outcome.passed
    found, reported, expected = outcome_of(profile, rule, subject(failing))
    assert found is outcome
    assert reported == actual
    assert expected


@pytest.mark.parametrize(
    ("profile", "rule", "passing", "failing", "outcome", "actual"),
    PROVENANCE_CASES,
    ids=[c[1] for c in PROVENANCE_CASES],
)
def test_provenance_rule_passes_and_fails(
    profile: str, rule: str, passing: dict[str, Any], failing: dict[str, Any], outcome: Outcome, actual: Any
) -> None:
    assert outcome_of(profile, rule, subject(provenance=passing))[0] is Outcome.passed
    found, reported, _ = outcome_of(profile, rule, subject(provenance=failing))
    assert (found, reported) == (outcome, actual)


@pytest.mark.parametrize(
    ("profile", "rule", "passing", "failing", "actual"), C2PA_CASES, ids=[c[1] for c in C2PA_CASES]
)
def test_c2pa_rule_passes_and_fails(
    profile: str, rule: str, passing: dict[str, Any], failing: dict[str, Any], actual: Any
) -> None:
    assert outcome_of(profile, rule, subject(c2pa=passing))[0] is Outcome.passed
    found, reported, _ = outcome_of(profile, rule, subject(c2pa=failing))
    assert (found, reported) == (Outcome.failed, actual)


@pytest.mark.parametrize(("profile", "rule"), NOT_CHECKED, ids=[r for _, r in NOT_CHECKED])
def test_what_cannot_be_checked_is_never_passed(profile: str, rule: str) -> None:
    best = subject(provenance={"china_label": CHINA_LABEL}, c2pa=VALID)
    found, _, _ = outcome_of(profile, rule, best)
    assert found is Outcome.warned
    found, _, why = outcome_of(profile, rule, subject({"ai_used": False}, provenance={"china_label": CHINA_LABEL}))
    assert (found, why) == (Outcome.not_applicable, "condition not met")  # no AI: no label to look for


def test_a_china_label_on_content_the_record_says_is_not_ai_fails() -> None:
    changes = {"ai_used": False, "digital_source_type": "digitalCapture"}
    found, actual, _ = outcome_of(
        "china-gb45438", "gb45438.label-matches-ai-use", subject(changes, provenance={"china_label": CHINA_LABEL})
    )
    assert (found, actual) == (Outcome.failed, False)


def test_eu_mark_may_come_from_c2pa() -> None:
    vorbis_only = {"sources": {"digital_source_type": "vorbis:AIDISCLOSE_RECORD/digital_source_type"}}
    found, _, _ = outcome_of("eu-ai-act-art50", "eu.machine-readable-mark", subject(provenance=vorbis_only, c2pa=VALID))
    assert found is Outcome.passed


def test_rules_whose_condition_is_not_met_are_not_applicable() -> None:
    found, _, why = outcome_of("genai-production", "transparency.synthetic-performer", subject())
    assert (found, why) == (Outcome.not_applicable, "condition not met")


def test_each_result_names_the_pillar_its_rule_belongs_to() -> None:
    policy = load_policy("genai-production")
    results = run_policy(policy, subject(), {})
    pillars = {r.rule: r.pillar for r in results}
    assert pillars and all(pillars.values()), pillars
    assert {rule.id: rule.pillar for rule in policy.rules} == pillars
