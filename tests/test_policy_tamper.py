"""The profiles against files tampered after stamping, and against records built to slip past a rule.

Each case is a delivery that read PASS and should not: a value the record rejects hiding the field a rule
reads, a standard mark saying one thing while our namespace says another, dates compared across offsets,
a comparison with a moment the file does not give.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyexiv2
import pytest

from aidisclose import inspect_file, load_record, stamp
from aidisclose.carriers.xmp import own_key
from aidisclose.check import Verdict, check_file, policy_subject
from aidisclose.policy import Outcome, load_policy, parse_policy, run_policy

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli
from .test_studio_guidance import STUDIO_RECORD

PHOTO = FIXTURES / "images" / "photo.jpg"
DIGITAL_CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"


def stamped(tmp_path: Path, data: dict[str, Any]) -> Path:
    record_file = tmp_path / "record.json"
    record_file.write_text(json.dumps(data))
    return stamp(PHOTO, load_record(record_file), output_dir=tmp_path / "out").destination


def tampered(path: Path, values: dict[str, str]) -> Path:
    with pyexiv2.Image(str(path)) as image:
        image.modify_xmp(values)
    return path


def results(path: Path, policy: str) -> tuple[Verdict, dict[str, tuple[str, Any, str | None]]]:
    checked = check_file(path, [load_policy(policy)])
    return checked.verdict, {r.rule: (r.outcome.value, r.actual, r.invalid) for r in checked.results}


# -- a value the record rejects must not make the rules that read its field n/a -----------------------

REVOKED_AND_INVALID = [
    {
        "person": "C. Performer",
        "kind": "likeness",
        "deceased": True,
        "consent": {"status": "revoked", "scan_notice_hours": "72"},  # text, which the record refuses
    }
]


def test_a_likeness_tampered_into_an_invalid_value_fails_the_consent_rules_rather_than_skipping_them(
    tmp_path: Path,
) -> None:
    path = stamped(tmp_path, STUDIO_RECORD)
    assert check_file(path, [load_policy("studio-genai-partner")]).verdict is Verdict.passed
    tampered(path, {own_key("likeness"): json.dumps(REVOKED_AND_INVALID)})
    verdict, found = results(path, "studio-genai-partner")
    assert verdict is Verdict.failed
    for rule in ("union.consent-granted", "union.deceased-estate-or-union", "studio.talent-likeness-approval"):
        outcome, actual, invalid = found[rule]
        assert outcome == "fail", (rule, found[rule])
        assert "revoked" in str(actual) and "scan_notice_hours" in str(invalid)
    assert found["studio.tools-do-not-retain-inputs"][0] == "pass"  # a rule not reading likeness is unaffected
    verdict, found = results(path, "genai-production")
    assert verdict is Verdict.failed


def test_a_deliverable_tampered_into_an_invalid_value_does_not_excuse_the_final_approval(tmp_path: Path) -> None:
    data = {**copy.deepcopy(STUDIO_RECORD), "output_status": "temporary"}
    data["approvals"] = [a for a in data["approvals"] if a["category"] != "final-deliverable"]
    path = tampered(stamped(tmp_path, data), {own_key("deliverable"): "FINAL"})
    verdict, found = results(path, "studio-genai-partner")
    assert verdict is Verdict.failed
    assert found["studio.final-deliverable-approval"][0] == "fail"
    assert found["studio.temporary-output-not-delivered"][0] == "fail"


def test_a_warning_rule_reading_a_rejected_field_warns() -> None:
    policy = parse_policy(
        '[[rules]]\nid = "r"\nlevel = "warning"\nmessage = "m"\n'
        'when = { field = "likeness", count_gte = 1 }\ntest = { field = "ai_used", exists = true }\n',
        "inline",
    )
    (result,) = run_policy(policy, {"ai_used": True}, {}, rejected={"likeness"})
    assert (result.outcome, result.field) == (Outcome.warned, "likeness")
    (result,) = run_policy(policy, {"ai_used": True}, {})
    assert result.outcome is Outcome.not_applicable


# -- the standard mark itself must say AI ------------------------------------------------------------


def test_an_iptc_mark_saying_digital_capture_is_no_ai_mark_under_art50_or_sb942(tmp_path: Path) -> None:
    path = stamped(tmp_path, STUDIO_RECORD)
    assert results(path, "eu-ai-act-art50")[0] is Verdict.passed
    assert results(path, "ca-sb942")[0] is Verdict.passed
    tampered(path, {"Xmp.iptcExt.DigitalSourceType": DIGITAL_CAPTURE})  # our namespace still says AI
    verdict, found = results(path, "eu-ai-act-art50")
    assert verdict is Verdict.failed and found["eu.mark-is-ai-term"][0] == "fail"
    verdict, found = results(path, "ca-sb942")
    assert verdict is Verdict.failed and found["sb942.ai-marked"][0] == "fail"


# -- days against moments: the moment's own calendar day ----------------------------------------------


def _studio_outcome(rule: str, changes: dict[str, Any]) -> Outcome:
    data = copy.deepcopy(STUDIO_RECORD)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target: Any = data
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
    (result,) = [r for r in run_policy(load_policy("studio-genai-partner"), data, {}) if r.rule == rule]
    return result.outcome


INPUTS_FIRST = "studio.input-approvals-before-generation"
FINAL_FIRST = "studio.final-approval-before-delivery"


@pytest.mark.parametrize(
    ("rule", "changes", "outcome"),
    [
        # generated at 20:00 on 1 September in California (04:00 UTC on the 2nd); approved on the 2nd: after
        (
            INPUTS_FIRST,
            {
                "generated_at": "2026-09-01T20:00:00-08:00",
                "approvals.1.date": "2026-09-02",
                "approvals.2.date": "2026-09-01",
            },
            Outcome.failed,
        ),
        # generated at 01:00 on 2 September in Tokyo (16:00 UTC on the 1st); approved that day: on or before
        (
            INPUTS_FIRST,
            {
                "generated_at": "2026-09-02T01:00:00+09:00",
                "approvals.1.date": "2026-09-02",
                "approvals.2.date": "2026-09-02",
            },
            Outcome.passed,
        ),
        # signed off at 20:00 on 2 October in Los Angeles; the final approval dated the 3rd came after it
        (FINAL_FIRST, {"qc.date": "2026-10-02T20:00:00-07:00", "approvals.0.date": "2026-10-03"}, Outcome.failed),
        # no moment to compare with: the approval is not shown to come first
        (FINAL_FIRST, {"qc.date": None}, Outcome.failed),
        (INPUTS_FIRST, {"generated_at": None}, Outcome.failed),
    ],
)
def test_approval_days_are_compared_with_the_moments_own_day(
    rule: str, changes: dict[str, Any], outcome: Outcome
) -> None:
    assert _studio_outcome(rule, {}) is Outcome.passed
    assert _studio_outcome(rule, changes) is outcome


# -- a file saying no AI was used while its own marks say AI ------------------------------------------

NO_AI_RULES = {
    "eu-ai-act-art50": "eu.no-ai-mark-without-ai-use",
    "eu-cop-2026": "eu.no-ai-mark-without-ai-use",
    "ca-sb942": "sb942.no-ai-mark-without-ai-use",
    "platform-ready": "platform.no-ai-mark-without-ai-use",
    "studio-genai-partner": "studio.no-ai-mark-without-ai-use",
}


def test_a_file_declared_without_ai_whose_iptc_mark_says_ai_fails_every_ai_profile(tmp_path: Path) -> None:
    path = stamped(tmp_path, STUDIO_RECORD)
    # our namespace now says no AI and a camera capture; the IPTC property platforms read still says AI
    tampered(path, {own_key("ai_used"): "False", own_key("digital_source_type"): DIGITAL_CAPTURE})
    for policy, rule in NO_AI_RULES.items():
        verdict, found = results(path, policy)
        assert verdict is Verdict.failed, policy
        assert found[rule][:2] == ("fail", "compositeWithTrainedAlgorithmicMedia"), (policy, found[rule])


def test_a_file_declared_without_ai_and_marked_so_passes_the_consistency_rule() -> None:
    from .test_policy_rules import subject

    data = subject({"ai_used": False, "digital_source_type": "digitalCapture"})
    for policy, rule in NO_AI_RULES.items():
        (result,) = [r for r in run_policy(load_policy(policy), data, {}) if r.rule == rule]
        assert result.outcome is Outcome.passed, policy
    data = subject({"ai_used": False, "digital_source_type": "digitalCapture"}, c2pa={"state": "invalid",
                   "codes": [], "digital_source_type": "trainedAlgorithmicMedia"})  # fmt: skip
    (result,) = [r for r in run_policy(load_policy("ca-sb942"), data, {}) if r.rule == NO_AI_RULES["ca-sb942"]]
    assert result.outcome is Outcome.failed  # even a broken manifest saying AI contradicts "no AI"


# -- "synthetic performer" is no exemption for a real person's revoked consent --------------------------


@pytest.mark.parametrize(
    ("changes", "outcome"),
    [
        ({"likeness.0.replica_type": "synthetic-performer", "likeness.0.consent.status": "pending"}, Outcome.passed),
        ({"likeness.0.replica_type": "synthetic-performer", "likeness.0.consent.status": "revoked"}, Outcome.failed),
        ({"likeness.0.replica_type": "synthetic-performer", "likeness.0.consent.status": "denied"}, Outcome.failed),
        (
            {
                "likeness.0.replica_type": "synthetic-performer",
                "likeness.0.deceased": True,
                "likeness.0.consent.status": "pending",
            },
            Outcome.failed,
        ),
    ],
)
def test_a_synthetic_performer_is_exempt_from_consent_only_when_no_one_withheld_it(
    changes: dict[str, Any], outcome: Outcome
) -> None:
    assert _studio_outcome("union.consent-granted", changes) is outcome


# -- a mark in a sidecar is not uploaded with the file ------------------------------------------------

MKV = FIXTURES / "video" / "clip.mkv"


def test_platform_readiness_does_not_count_marks_in_sidecars_the_platform_never_sees(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    out = tmp_path / "out"
    result = run_cli("stamp", MKV, "-r", EXAMPLE_RECORD, "-o", out, "--sign-cert", keys["chain"],
                     "--sign-key", keys["key"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    path = out / MKV.name
    assert (out / f"{MKV.name}.xmp").exists() and (out / f"{MKV.name}.c2pa").exists()
    info = inspect_file(path, technical=False)
    facts, _ = policy_subject(info, info.record.to_json_dict())
    assert facts["provenance"]["sidecar"].endswith(".xmp") and facts["c2pa"]["sidecar"].endswith(".c2pa")
    checked = check_file(path, [load_policy("platform-ready")])
    assert checked.c2pa is not None and checked.c2pa.state == "valid"  # a good manifest, beside the file
    found = {r.rule: r.outcome.value for r in checked.results}
    assert checked.verdict is Verdict.failed and found["platform.labelled-somewhere"] == "fail"
    assert found["platform.youtube-c2pa"] == found["platform.meta-ai-info"] == "warn"
    photo = check_file(stamp(PHOTO, load_record(EXAMPLE_RECORD), output_dir=tmp_path / "jpeg").destination,
                       [load_policy("platform-ready")])  # fmt: skip
    assert photo.verdict is Verdict.passed  # the same marks inside the file


def test_a_field_read_through_an_at_path_counts_as_read_when_it_was_rejected() -> None:
    data = copy.deepcopy(STUDIO_RECORD)
    data["likeness"][0]["replica_type"] = "synthetic-performer"  # exempt from the per-project test...
    del data["production"]  # ...which compares with the production, here a value the record rejected
    policy = load_policy("studio-genai-partner")
    found = {r.rule: r for r in run_policy(policy, data, {}, rejected={"production"})}
    assert (found["union.consent-per-project"].outcome, found["union.consent-per-project"].field) == (
        Outcome.failed,
        "production",
    )
    assert {r.rule: r.outcome for r in run_policy(policy, data, {})}["union.consent-per-project"] is Outcome.passed
