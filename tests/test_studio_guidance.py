"""Studio guidance as written and union consent: the record's approvals, data handling, output status and
consent facts survive every carrier, and the studio-genai-partner profile judges them."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aidisclose import DisclosureError, load_record
from aidisclose.carriers.c2pa.manifest import REDACTABLE, redacted
from aidisclose.policy import Outcome, load_policy, parse_policy, run_policy
from aidisclose.record import RECORD_TEMPLATE, DisclosureRecord, validate_record

from .conftest import EXAMPLE_RECORD, FIXTURES, ROOT, run_cli
from .test_policy_rules import DELETE, STUDIO, outcome_of, studio, subject

STUDIO_RECORD: dict[str, Any] = {
    **load_record(EXAMPLE_RECORD).to_json_dict(),
    "output_status": "final",
    "personal_data": True,
    "third_party_ip": False,
    "approvals": [
        {"category": "final-deliverable", "reference": "APPR-7", "date": "2026-09-28", "approver": "Exec"},
        {"category": "talent-likeness", "reference": "APPR-3", "date": "2026-09-01", "approver": "Legal"},
        {"category": "personal-data", "reference": "APPR-9", "date": "2026-09-20", "approver": "DPO"},
    ],
}
_HANDLING = {"retains_inputs": False, "trains_on_inputs": False, "enterprise_secured": True, "terms_reference": "EA-3"}
STUDIO_RECORD["ai_systems"] = [{**system, "data_handling": _HANDLING} for system in STUDIO_RECORD["ai_systems"]]
STUDIO_RECORD["likeness"] = [
    {
        **STUDIO_RECORD["likeness"][0],
        "consent": {
            **STUDIO_RECORD["likeness"][0]["consent"],
            "separate_from_contract": True,
            "intended_use": "Background crowd extension, scenes 12-14",
            "scan_notice_hours": 72,
            "project": "Example Feature",
            "represented_by": "union",
        },
    }
]

# A still, the two audio formats that carry XMP (ID3 PRIV, RIFF _PMX), an ISO BMFF video, and two formats whose
# record travels as JSON tags (Vorbis comments, MP4 freeform atoms).
ROUND_TRIP = [
    ("images/photo.jpg", "xmp:Xmp.aidisclose.Approvals"),
    ("audio/tone.mp3", "xmp:Xmp.aidisclose.Approvals"),
    ("audio/tone.wav", "xmp:Xmp.aidisclose.Approvals"),
    ("video/clip.mp4", "xmp:Xmp.aidisclose.Approvals"),
    ("audio/tone.flac", None),
    ("audio/tone.m4a", None),
]


@pytest.mark.parametrize(("fixture", "approvals_from"), ROUND_TRIP, ids=[f for f, _ in ROUND_TRIP])
def test_studio_fields_round_trip_through_stamp_and_inspect(
    fixture: str, approvals_from: str | None, tmp_path: Path
) -> None:
    source = tmp_path / Path(fixture).name
    shutil.copyfile(FIXTURES / fixture, source)
    record_file = tmp_path / "record.json"
    record_file.write_text(json.dumps(STUDIO_RECORD), encoding="utf-8")
    stamped = run_cli("stamp", source, "--record", record_file, "--in-place")
    assert stamped.exit_code == 0, stamped.stderr

    (result,) = run_cli("inspect", source, "--format", "json").json()["files"]
    back = result["record"]
    assert validate_record(back) == validate_record(STUDIO_RECORD)
    assert back["approvals"] == STUDIO_RECORD["approvals"]
    assert back["ai_systems"][1]["data_handling"] == _HANDLING
    assert back["likeness"][0]["consent"]["scan_notice_hours"] == 72
    assert (back["output_status"], back["personal_data"], back["third_party_ip"]) == ("final", True, False)
    provenance = result["provenance"]
    assert provenance["conflicts"] == [] and provenance["problems"] == []
    if approvals_from:
        assert provenance["sources"]["approvals"] == approvals_from
        assert provenance["sources"]["output_status"] == "xmp:Xmp.aidisclose.OutputStatus"
        assert provenance["sources"]["personal_data"] == "xmp:Xmp.aidisclose.PersonalData"

    checked = run_cli("check", source, "-p", STUDIO, "--format", "json")
    assert checked.exit_code == 0, checked.stdout


def test_a_stamped_file_without_the_approvals_fails_the_studio_profile(tmp_path: Path) -> None:
    source = tmp_path / "photo.jpg"
    shutil.copyfile(FIXTURES / "images" / "photo.jpg", source)
    record_file = tmp_path / "record.json"
    record_file.write_text(json.dumps({**STUDIO_RECORD, "approvals": STUDIO_RECORD["approvals"][:1]}))
    assert run_cli("stamp", source, "--record", record_file, "--in-place").exit_code == 0
    checked = run_cli("check", source, "-p", STUDIO, "--format", "json")
    assert checked.exit_code == 1
    failed = {r["rule"] for f in checked.json()["files"] for r in f["results"] if r["outcome"] == "fail"}
    assert failed == {"studio.talent-likeness-approval", "studio.personal-data-approval"}


def test_the_example_with_every_studio_fact_passes_every_rule() -> None:
    data = subject(studio())
    record = {k: v for k, v in data.items() if k in DisclosureRecord.model_fields}  # the facts left out
    validate_record(record)  # the cases' base is a record the model accepts
    results = run_policy(load_policy(STUDIO), data, {})
    assert {r.outcome for r in results} <= {Outcome.passed, Outcome.not_applicable}
    assert sum(r.outcome is Outcome.passed for r in results) >= 15


def test_template_validates_and_carries_the_studio_fields(tmp_path: Path) -> None:
    path = tmp_path / "record.toml"
    assert run_cli("init", path).exit_code == 0
    record = load_record(path)
    assert record.approvals[0].category.value == "final-deliverable"
    assert record.output_status is not None and record.ai_systems[0].data_handling is not None
    results = run_policy(load_policy(STUDIO), record.to_json_dict(), {})
    assert not [r.rule for r in results if r.outcome in (Outcome.failed, Outcome.warned)]
    # The commented likeness example, once uncommented, is a valid record that meets the union terms.
    start = RECORD_TEMPLATE.index("# [[likeness]]")
    end = RECORD_TEMPLATE.index("\n\n", start)
    block = "\n".join(line.removeprefix("# ") for line in RECORD_TEMPLATE[start:end].splitlines())
    data = tomllib.loads(RECORD_TEMPLATE[:start] + block + RECORD_TEMPLATE[end:])
    with_likeness = validate_record(data)
    consent = with_likeness.likeness[0].consent
    assert consent is not None and consent.scan_notice_hours == 72 and consent.project == with_likeness.production
    results = run_policy(load_policy(STUDIO), with_likeness.to_json_dict(), {})
    union = {r.rule: r.outcome for r in results if r.rule.startswith("union.")}
    assert union["union.scan-notice-48h"] is Outcome.passed and union["union.consent-per-project"] is Outcome.passed
    assert {r.rule for r in results if r.outcome is Outcome.failed} == {"studio.talent-likeness-approval"}


def test_schema_describes_the_new_fields() -> None:
    schema = json.loads(run_cli("schema").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(STUDIO_RECORD, schema)
    defs = schema["$defs"]
    assert set(defs["Approval"]["properties"]) == {"category", "reference", "date", "approver"}
    assert {"retains_inputs", "trains_on_inputs", "enterprise_secured"} <= set(defs["DataHandling"]["properties"])
    assert {"separate_from_contract", "intended_use", "scan_notice_hours", "project", "represented_by"} <= set(
        defs["Consent"]["properties"]
    )
    assert {"output_status", "personal_data", "third_party_ip", "approvals"} <= set(schema["properties"])


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"approvals": [{"category": "vibes"}]}, "approvals.0.category"),
        ({"approvals": [{"category": "personal-data", "date": "2026-09-01T10:00:00Z"}]}, "approvals.0.date"),
        ({"output_status": "draft"}, "output_status"),
        ({"personal_data": "yes"}, "personal_data"),
        ({"likeness": [{"person": "P", "kind": "voice", "consent": {"status": "granted", "scan_notice_hours": True}}]},
         "scan_notice_hours"),
        ({"likeness": [{"person": "P", "kind": "voice", "consent": {"status": "granted", "scan_notice_hours": -1}}]},
         "scan_notice_hours"),
        ({"likeness": [{"person": "P", "kind": "voice", "consent": {"status": "granted", "scan_notice_hours": "48"}}]},
         "scan_notice_hours"),
        ({"ai_systems": [{"name": "G", "data_handling": {"retains_inputs": "no"}}]}, "data_handling.retains_inputs"),
    ],
)  # fmt: skip
def test_the_new_fields_take_only_their_own_values(change: dict[str, Any], words: str) -> None:
    with pytest.raises(DisclosureError, match=words):
        validate_record(change)


def test_set_fills_the_new_fields_by_their_type(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('[[likeness]]\nperson = "P"\nkind = "voice"\n[likeness.consent]\nstatus = "granted"\n')
    record = load_record(
        path,
        [
            "likeness.0.consent.scan_notice_hours=48",
            "likeness.0.consent.separate_from_contract=true",
            "approvals.0={category = 'talent-likeness', date = '2026-09-01'}",
            "output_status=temporary",
        ],
    )
    assert record.likeness[0].consent is not None and record.likeness[0].consent.scan_notice_hours == 48
    assert record.approvals[0].date is not None and record.approvals[0].date.isoformat() == "2026-09-01"
    assert record.output_status is not None and record.output_status.value == "temporary"


@pytest.mark.parametrize(
    ("changes", "outcome", "actual"),
    [
        ({"likeness.0.consent.scan_notice_hours": DELETE}, Outcome.failed, "missing"),
        ({"likeness.0.consent.scan_notice_hours": "72"}, Outcome.failed, "72"),  # text is not a number of hours
        ({"likeness.0.consent.scan_notice_hours": True}, Outcome.failed, True),
        ({"likeness.0.consent.scan_notice_hours": 48}, Outcome.passed, "1 item(s)"),
        (  # a replica made without the performer involves no scan
            {"likeness.0.consent.scan_notice_hours": DELETE, "likeness.0.replica_type": "independently-created"},
            Outcome.passed,
            "1 item(s)",
        ),
        (  # nothing says whether it was scanned: notice is asked for
            {"likeness.0.consent.scan_notice_hours": DELETE, "likeness.0.replica_type": DELETE},
            Outcome.failed,
            "missing",
        ),
    ],
)
def test_scan_notice_is_a_number_of_hours_of_at_least_48(
    changes: dict[str, Any], outcome: Outcome, actual: Any
) -> None:
    found, reported, _ = outcome_of(STUDIO, "union.scan-notice-48h", subject(studio(changes)))
    assert (found, reported) == (outcome, actual)


def test_consent_for_no_named_project_does_not_match_a_record_that_names_none() -> None:
    # Missing == missing must not read as "the same project".
    changes = {"production": DELETE, "likeness.0.consent.project": DELETE}
    found, reported, _ = outcome_of(STUDIO, "union.consent-per-project", subject(studio(changes)))
    assert (found, reported) == (Outcome.failed, "missing")


def test_approvals_for_temporary_work_are_asked_only_where_they_apply() -> None:
    # A temp deliverable with temporary output needs no final-deliverable approval, but still names its status.
    temp = subject(studio({"deliverable": "temp", "output_status": "temporary", "approvals": []}))
    outcomes = {r.rule: r.outcome for r in run_policy(load_policy(STUDIO), temp, {})}
    assert outcomes["studio.final-deliverable-approval"] is Outcome.not_applicable
    assert outcomes["studio.temporary-output-not-delivered"] is Outcome.not_applicable
    assert outcomes["studio.talent-likeness-approval"] is Outcome.failed  # the likeness is still used
    # Output marked final needs the approval even in a deliverable not marked final.
    final_output = subject(studio({"deliverable": "marketing", "approvals": []}))
    outcome, _, _ = outcome_of(STUDIO, "studio.final-deliverable-approval", final_output)
    assert outcome is Outcome.failed


def test_undeclared_ai_use_fails_once_not_silently() -> None:
    data = subject(studio({"ai_used": DELETE}))
    results = {r.rule: r for r in run_policy(load_policy(STUDIO), data, {})}
    assert results["studio.ai-use-declared"].outcome is Outcome.failed
    for rule in ("studio.tools-do-not-retain-inputs", "studio.output-status-declared"):
        assert (
            results[rule].outcome is Outcome.not_applicable and "needs studio.ai-use-declared" in results[rule].expected
        )


def test_at_least_takes_a_number() -> None:
    hours_at_least = '{{ field = "likeness", all = {{ field = "consent.scan_notice_hours", at_least = {} }} }}'
    text = '[[rules]]\nid = "a"\nmessage = "m"\ntest = ' + hours_at_least + "\n"
    for bad in ('"48"', "true"):
        with pytest.raises(DisclosureError, match="'at_least' takes a number"):
            parse_policy(text.format(bad), "test")
    policy = parse_policy(text.format("48.5"), "test")
    hours = [{"consent": {"scan_notice_hours": 49}}, {"consent": {"scan_notice_hours": 48}}]
    (result,) = run_policy(policy, {"likeness": hours}, {})
    assert (result.outcome, result.actual, result.field) == (Outcome.failed, 48, "likeness.1.consent.scan_notice_hours")


def test_the_approver_is_left_out_of_a_redacted_manifest() -> None:
    data = redacted(STUDIO_RECORD, REDACTABLE)
    assert data["approvals"] and all("approver" not in a for a in data["approvals"])
    assert redacted(STUDIO_RECORD, frozenset())["approvals"][0]["approver"] == "Exec"


def test_the_profile_cites_its_sources() -> None:
    shown = run_cli("policy", "show", STUDIO)
    assert shown.exit_code == 0
    for source in ("Using Generative AI in Content Production", "SAG-AFTRA", "AB 2602", "S.8420-A"):
        assert source in shown.stdout


def test_the_readme_studio_example_is_a_valid_record() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```toml\n(.*?)```", readme, flags=re.S) if "scan_notice_hours" in b]
    record = validate_record(tomllib.loads(block))
    assert record.approvals[0].category.value == "talent-likeness" and record.output_status is not None
