"""Every rule of every built-in profile: a record that passes it and one that fails it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aidisclose import load_record
from aidisclose.check import NOT_CHECKED
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
        "sources": {
            "digital_source_type": DST_FROM_XMP,
            "ai_used": "xmp:Xmp.aidisclose.AiUsed",
            "ai_systems": "xmp:Xmp.aidisclose.AiSystems",
            "generated_at": "xmp:Xmp.aidisclose.GeneratedAt",
            "asset_id": "xmp:Xmp.aidisclose.AssetId",
        },
        "iptc_digital_source_type": data.get("digital_source_type"),
        **(provenance or {}),
    }
    data["provenance"] = {k: v for k, v in data["provenance"].items() if v is not DELETE}
    data["c2pa"] = c2pa or {"state": "none", "codes": []}
    data["not_checked"] = dict(NOT_CHECKED)  # as check gives it: what no file's reading can tell
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

# studio-genai-partner: the example record plus what the studio guidance and the union terms ask for.
STUDIO_OK: dict[str, Any] = {
    "output_status": "final",
    "personal_data": False,
    "third_party_ip": False,
    "approvals": [
        {"category": "final-deliverable", "reference": "APPR-7", "date": "2026-09-28", "approver": "Exec"},
        {"category": "talent-likeness", "reference": "APPR-3", "date": "2026-09-01", "approver": "Legal"},
    ],
    "ai_systems.0.data_handling": {"retains_inputs": False, "trains_on_inputs": False, "enterprise_secured": True},
    "ai_systems.1.data_handling": {"retains_inputs": False, "trains_on_inputs": False, "enterprise_secured": True},
    "likeness.0.consent.separate_from_contract": True,
    "likeness.0.consent.intended_use": "Background crowd extension, scenes 12-14",
    "likeness.0.consent.scan_notice_hours": 72,
    "likeness.0.consent.project": "Example Feature",
    "likeness.0.consent.represented_by": "union",
}
PERSONAL_DATA_APPROVAL = {"category": "personal-data", "reference": "APPR-9", "date": "2026-09-20", "approver": "DPO"}
IP_APPROVAL = {"category": "third-party-ip", "reference": "APPR-5", "date": "2026-09-20", "approver": "Legal"}


def studio(changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """STUDIO_OK (a fresh copy: ``subject`` stores values, and later paths may change them) with ``changes``."""
    return {**copy.deepcopy(STUDIO_OK), **(changes or {})}


STUDIO = "studio-genai-partner"
STUDIO_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], Outcome, Any]] = [
    (STUDIO, "studio.ai-use-declared", studio(), studio({"ai_used": DELETE}), Outcome.failed, "missing"),
    (
        STUDIO,
        "studio.final-deliverable-approval",
        studio(),
        studio({"approvals": [STUDIO_OK["approvals"][1]]}),
        Outcome.failed,
        "1 item(s), none matching",
    ),
    (
        STUDIO,
        "studio.final-approval-before-delivery",
        studio(),
        studio({"approvals.0.date": "2026-10-03"}),
        Outcome.failed,
        "2026-10-03",
    ),
    (
        STUDIO,
        "studio.talent-likeness-approval",
        studio(),
        studio({"approvals": [STUDIO_OK["approvals"][0]]}),
        Outcome.failed,
        "1 item(s), none matching",
    ),
    (
        STUDIO,
        "studio.personal-data-approval",
        studio({"personal_data": True, "approvals": [*STUDIO_OK["approvals"], PERSONAL_DATA_APPROVAL]}),
        studio({"prompts.0.text": "crowd like the photo jo@example.com sent"}),
        Outcome.failed,
        "2 item(s), none matching",
    ),
    (
        STUDIO,
        "studio.third-party-ip-approval",
        studio({"third_party_ip": True, "approvals": [*STUDIO_OK["approvals"], IP_APPROVAL]}),
        studio({"third_party_ip": True}),
        Outcome.failed,
        "2 item(s), none matching",
    ),
    (
        STUDIO,
        "studio.input-approvals-before-generation",
        studio(),
        studio({"approvals.1.date": "2026-10-02"}),
        Outcome.failed,
        "2026-10-02",
    ),
    (
        STUDIO,
        "studio.approvals-name-approver",
        studio(),
        studio({"approvals.1.approver": DELETE}),
        Outcome.warned,
        "missing",
    ),
    (
        STUDIO,
        "studio.tools-do-not-retain-inputs",
        studio(),
        studio({"ai_systems.1.data_handling.retains_inputs": True}),
        Outcome.failed,
        True,
    ),
    (
        STUDIO,
        "studio.tools-do-not-train-on-inputs",
        studio(),
        studio({"ai_systems.0.data_handling.trains_on_inputs": DELETE}),
        Outcome.failed,
        "missing",
    ),
    (
        STUDIO,
        "studio.tools-enterprise-secured",
        studio(),
        studio({"ai_systems.0.data_handling.enterprise_secured": False}),
        Outcome.warned,
        False,
    ),
    (STUDIO, "studio.output-status-declared", studio(), studio({"output_status": DELETE}), Outcome.failed, "missing"),
    (STUDIO, "studio.personal-data-declared", studio(), studio({"personal_data": DELETE}), Outcome.failed, "missing"),
    (STUDIO, "studio.third-party-ip-declared", studio(), studio({"third_party_ip": DELETE}), Outcome.failed, "missing"),
    (
        STUDIO,
        "studio.temporary-output-not-delivered",
        studio(),
        studio({"output_status": "temporary"}),
        Outcome.failed,
        "temporary",
    ),
    (
        STUDIO,
        "union.consent-granted",
        studio(),
        studio({"likeness.0.consent.status": "pending"}),
        Outcome.failed,
        "pending",
    ),
    (
        STUDIO,
        "union.consent-separate-from-contract",
        studio(),
        studio({"likeness.0.consent.separate_from_contract": False}),
        Outcome.failed,
        False,
    ),
    (
        STUDIO,
        "union.consent-intended-use",
        studio(),
        studio({"likeness.0.consent.intended_use": DELETE}),
        Outcome.failed,
        "missing",
    ),
    (
        STUDIO,
        "union.scan-notice-48h",
        studio(),
        studio({"likeness.0.consent.scan_notice_hours": 24}),
        Outcome.failed,
        24,
    ),
    (
        STUDIO,
        "union.consent-per-project",
        studio(),
        studio({"likeness.0.consent.project": "Another Feature"}),
        Outcome.failed,
        "Another Feature",
    ),
    (
        STUDIO,
        "union.deceased-estate-or-union",
        studio({"likeness.0.deceased": True, "likeness.0.consent.granted_by": "estate"}),
        studio({"likeness.0.deceased": True}),
        Outcome.failed,
        "self",
    ),
    (
        STUDIO,
        "union.synthetic-performer-notice",
        studio(SYNTHETIC_PERFORMER),
        studio({**SYNTHETIC_PERFORMER, "synthetic_content.union_notice_reference": DELETE}),
        Outcome.failed,
        "missing",
    ),
    (
        STUDIO,
        "ca-ab2602.represented",
        studio(),
        studio({"likeness.0.consent.represented_by": "none"}),
        Outcome.warned,
        "none",
    ),
    (
        STUDIO,
        "ny-s8420a.synthetic-performer-ad-disclosed",
        studio({**SYNTHETIC_PERFORMER, "genre": "advertising"}),
        studio({**SYNTHETIC_PERFORMER, "genre": "advertising", "synthetic_content.audience_disclosure": False}),
        Outcome.failed,
        False,
    ),
]
CASES += STUDIO_CASES

# Rules whose pass/fail is decided by provenance rather than by the record.
PROVENANCE_CASES = [
    ("genai-production", "metadata.carriers-agree", {}, {"conflict_count": 1}, Outcome.failed, 1),
    (
        "eu-ai-act-art50",
        "eu.machine-readable-mark",
        {},
        {"iptc_digital_source_type": DELETE},
        Outcome.failed,
        "missing",
    ),
]

# China's implicit label as check exposes it (check.china_label_facts): one stamped with --label china.
CHINA_LABEL = {
    "present": True,
    "label": "1",
    "content_producer": "Example AI Inc.; Replica Labs",
    "produce_id": "SHOT010_V003",
    "source": "xmp:Xmp.TC260.AIGC",
    "agree": True,
}
NO_CHINA_LABEL = {"present": False}
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
    (
        "china-gb45438",
        "gb45438.labels-agree",
        {"china_label": CHINA_LABEL},
        {"china_label": {**CHINA_LABEL, "agree": False}},
        Outcome.failed,
        False,
    ),
]
PROVENANCE_CASES += CHINA_LABEL_CASES

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


# eu-cop-2026 extends eu-ai-act-art50: each inherited rule is checked there with the parent's cases.
CASES += [("eu-cop-2026", *rest) for profile, *rest in CASES if profile == "eu-ai-act-art50"]
PROVENANCE_CASES += [("eu-cop-2026", *rest) for profile, *rest in PROVENANCE_CASES if profile == "eu-ai-act-art50"]

SIGNED = {  # a valid manifest saying AI, time-stamped by a trusted authority, its parent's manifest kept
    **VALID,
    "timestamp": "trusted",
    "claim_version": 2,
    "ingredients_invalid": 0,
    "ingredient_count": 1,
    "ingredient_manifest_count": 1,
    "has_parent": True,
    "parent_has_manifest": True,
}
NO_IPTC = {"iptc_digital_source_type": DELETE}
FROM_VORBIS = "vorbis:AIDISCLOSE_RECORD/"
# Rules that read record, provenance and C2PA together: (profile, rule, subject() arguments that pass, that fail,
# outcome on failure, actual reported on failure).
FACT_CASES: list[tuple[str, str, dict[str, Any], dict[str, Any], Outcome, Any]] = [
    ("eu-cop-2026", "cop.signed-metadata", {"c2pa": SIGNED}, {"c2pa": {**SIGNED, "state": "invalid"}}, Outcome.failed,
     "invalid"),
    ("eu-cop-2026", "cop.signed-metadata", {"c2pa": SIGNED}, {}, Outcome.failed, "none"),
    ("eu-cop-2026", "cop.signed-ai-source-type", {"c2pa": SIGNED},
     {"c2pa": {**SIGNED, "digital_source_type": "digitalCapture"}}, Outcome.failed, "digitalCapture"),
    ("eu-cop-2026", "cop.signed-ai-source-type",
     {"c2pa": {**SIGNED, "digital_source_type": "humanEdits", "created_source_type": "trainedAlgorithmicMedia"}},
     {"c2pa": {**SIGNED, "digital_source_type": "humanEdits", "created_source_type": "digitalCapture"}},
     Outcome.failed, "humanEdits"),
    ("eu-cop-2026", "cop.trusted-timestamp", {"c2pa": SIGNED},
     {"c2pa": {**SIGNED, "timestamp": "validated (the time-stamp authority is not trusted)"}}, Outcome.failed,
     "validated (the time-stamp authority is not trusted)"),
    ("eu-cop-2026", "cop.trusted-timestamp", {"c2pa": SIGNED},
     {"c2pa": {k: v for k, v in SIGNED.items() if k != "timestamp"}}, Outcome.failed, "missing"),
    ("eu-cop-2026", "cop.upstream-manifests-kept", {"c2pa": SIGNED}, {"c2pa": {**SIGNED, "ingredients_invalid": 1}},
     Outcome.failed, 1),
    ("eu-cop-2026", "cop.parent-credentials-kept", {"c2pa": SIGNED},
     {"c2pa": {**SIGNED, "parent_has_manifest": False}}, Outcome.warned, False),
    ("ca-sb942", "sb942.ai-marked", {},
     {"provenance": {"sources": {"digital_source_type": FROM_VORBIS + "digital_source_type"}}}, Outcome.failed,
     FROM_VORBIS + "digital_source_type"),
    ("ca-sb942", "sb942.provider", {}, {"provenance": {"sources": {"ai_systems": FROM_VORBIS + "ai_systems"}}},
     Outcome.failed, FROM_VORBIS + "ai_systems"),
    ("ca-sb942", "sb942.system-name-and-version", {},
     {"provenance": {"sources": {"ai_systems": "id3:TXXX:AIDISCLOSE_RECORD"}}}, Outcome.failed,
     "id3:TXXX:AIDISCLOSE_RECORD"),
    ("ca-sb942", "sb942.creation-time", {}, {"provenance": {"sources": {"generated_at": FROM_VORBIS + "generated_at"}}},
     Outcome.failed, FROM_VORBIS + "generated_at"),
    ("ca-sb942", "sb942.unique-id", {}, {"provenance": {"sources": {"asset_id": "riff:INFO/ISRC"}}}, Outcome.failed,
     "riff:INFO/ISRC"),
    ("ca-sb942", "sb942.provider", {"provenance": {"sources": {"ai_systems": "c2pa:c2pa.actions"}}},
     {"provenance": {"sources": {}}}, Outcome.failed, "missing"),
    ("platform-ready", "platform.ai-use-declared", {}, {"changes": {"ai_used": DELETE}}, Outcome.failed, "missing"),
    ("platform-ready", "platform.meta-ai-info", {},
     {"provenance": {"iptc_digital_source_type": "compositeSynthetic"}}, Outcome.warned, "compositeSynthetic"),
    ("platform-ready", "platform.meta-ai-info", {"provenance": NO_IPTC, "c2pa": SIGNED},
     {"provenance": NO_IPTC, "c2pa": {**SIGNED, "digital_source_type": "algorithmicallyEnhanced"}}, Outcome.warned,
     "missing"),
    ("platform-ready", "platform.youtube-c2pa", {"c2pa": SIGNED}, {"c2pa": {**SIGNED, "claim_version": 1}},
     Outcome.warned, 1),
    ("platform-ready", "platform.youtube-c2pa", {"c2pa": SIGNED}, {}, Outcome.warned, "none"),
    ("platform-ready", "platform.google-ai-term", {},
     {"provenance": {"iptc_digital_source_type": "algorithmicallyEnhanced"}}, Outcome.warned,
     "algorithmicallyEnhanced"),
    ("platform-ready", "platform.labelled-somewhere", {}, {"provenance": NO_IPTC}, Outcome.failed, "none"),
    ("platform-ready", "platform.labelled-somewhere", {"provenance": NO_IPTC, "c2pa": SIGNED},
     {"provenance": {"iptc_digital_source_type": "digitalCapture"}, "c2pa": {**SIGNED, "state": "invalid"}},
     Outcome.failed, "invalid"),
]  # fmt: skip

# A file saying no AI was used while a mark in it (the IPTC property platforms read, here) says AI.
NO_AI_DECLARED = {"ai_used": False, "digital_source_type": "digitalCapture"}
FACT_CASES += [
    (profile, rule, {"changes": NO_AI_DECLARED},
     {"changes": NO_AI_DECLARED, "provenance": {"iptc_digital_source_type": "trainedAlgorithmicMedia"}},
     Outcome.failed, "trainedAlgorithmicMedia")
    for profile, rule in [
        ("eu-ai-act-art50", "eu.no-ai-mark-without-ai-use"), ("eu-cop-2026", "eu.no-ai-mark-without-ai-use"),
        ("ca-sb942", "sb942.no-ai-mark-without-ai-use"), ("platform-ready", "platform.no-ai-mark-without-ai-use"),
        ("studio-genai-partner", "studio.no-ai-mark-without-ai-use"),
    ]
]  # fmt: skip

# Rules that report what aidisclose cannot check: never a pass, only warned (AI files) or n/a (the rest).
# Rules that report what aidisclose cannot check: they never pass, whatever the file holds.
NEVER_PASSING = [("eu-cop-2026", "cop.watermark-not-checked"), ("china-gb45438", "gb45438.explicit-label-not-checked")]


def test_every_builtin_rule_has_a_case() -> None:
    covered = {(p, r) for p, r, *_ in CASES + PROVENANCE_CASES + FACT_CASES} | set(C2PA_RULES)
    covered |= set(NEVER_PASSING)
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


def test_a_china_label_on_content_the_record_says_is_not_ai_fails() -> None:
    changes = {"ai_used": False, "digital_source_type": "digitalCapture"}
    found, actual, _ = outcome_of(
        "china-gb45438", "gb45438.label-matches-ai-use", subject(changes, provenance={"china_label": CHINA_LABEL})
    )
    assert (found, actual) == (Outcome.failed, False)


def test_eu_mark_may_come_from_c2pa() -> None:
    vorbis_only = {"sources": {"digital_source_type": "vorbis:AIDISCLOSE_RECORD/digital_source_type"}, **NO_IPTC}
    found, _, _ = outcome_of("eu-ai-act-art50", "eu.machine-readable-mark", subject(provenance=vorbis_only, c2pa=VALID))
    assert found is Outcome.passed
    found, _, _ = outcome_of("eu-ai-act-art50", "eu.machine-readable-mark", subject(provenance=vorbis_only))
    assert found is Outcome.failed


def test_rules_whose_condition_is_not_met_are_not_applicable() -> None:
    found, _, why = outcome_of("genai-production", "transparency.synthetic-performer", subject())
    assert (found, why) == (Outcome.not_applicable, "condition not met")


def test_each_result_names_the_pillar_its_rule_belongs_to() -> None:
    policy = load_policy("genai-production")
    results = run_policy(policy, subject(), {})
    pillars = {r.rule: r.pillar for r in results}
    assert pillars and all(pillars.values()), pillars
    assert {rule.id: rule.pillar for rule in policy.rules} == pillars


@pytest.mark.parametrize(
    "prompt", ["sky from josé@example.com", "as 李雷@例子.中国 sent it", "ask zoë@exämple.de", "call +44 20 7946 0958"]
)
def test_personal_data_in_prompts_is_found_in_any_script(prompt: str) -> None:
    """The policy engine's regular expressions are RE2, whose \\w is ASCII only: letters are \\pL."""
    rule = "transparency.prompts-personal-data"
    outcome, _, _ = outcome_of("genai-production", rule, subject({"prompts.0.text": prompt}))
    assert outcome is Outcome.warned


@pytest.mark.parametrize(
    ("profile", "rule", "passing", "failing", "outcome", "actual"),
    FACT_CASES,
    ids=[f"{c[1]}-{n}" for n, c in enumerate(FACT_CASES)],
)
def test_fact_rule_passes_and_fails(
    profile: str, rule: str, passing: dict[str, Any], failing: dict[str, Any], outcome: Outcome, actual: Any
) -> None:
    assert outcome_of(profile, rule, subject(**passing))[0] is Outcome.passed
    found, reported, expected = outcome_of(profile, rule, subject(**failing))
    assert (found, reported) == (outcome, actual), expected


@pytest.mark.parametrize(("profile", "rule"), NEVER_PASSING)
def test_a_rule_on_what_is_not_checked_never_passes(profile: str, rule: str) -> None:
    policy = load_policy(profile)
    (message,) = [r.message for r in policy.rules if r.id == rule]
    assert "NOT CHECKED" in message
    # the most complete file the facts can describe: signed, trusted, time-stamped, upstream kept, labelled
    best = subject(provenance={"china_label": CHINA_LABEL}, c2pa={**SIGNED, "state": "trusted"})
    found, reported, _ = outcome_of(profile, rule, best)
    assert found is Outcome.warned and reported.startswith("not checked: "), reported
    assert outcome_of(profile, rule, subject({"ai_used": False}))[0] is Outcome.not_applicable


def test_cop_rules_wait_for_a_signed_manifest() -> None:
    """A file without a manifest fails the Code of Practice once, at signing, not once per signed fact."""
    policy = load_policy("eu-cop-2026")
    results = {r.rule: r for r in run_policy(policy, subject(), {})}
    assert results["cop.signed-metadata"].outcome is Outcome.failed
    for rule in ("cop.signed-ai-source-type", "cop.trusted-timestamp", "cop.upstream-manifests-kept"):
        assert results[rule].outcome is Outcome.not_applicable, rule
        assert results[rule].expected == "not checked: needs cop.signed-metadata to pass"


def test_eu_cop_extends_the_ai_act_profile() -> None:
    cop, art50 = load_policy("eu-cop-2026"), load_policy("eu-ai-act-art50")
    assert {r.id for r in art50.rules} < {r.id for r in cop.rules}
    assert cop.sources == ("builtin:eu-ai-act-art50", "builtin:eu-cop-2026")
    assert set(art50.references) < set(cop.references)
