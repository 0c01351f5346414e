"""The law and platform profiles on real files: signed and time-stamped by a real TSA, stamped unsigned, per carrier.

Also: the facts rules read (``check.policy_subject``) are exactly those the engine lets a policy name, and
every built-in policy is shown with its sources.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from aidisclose import DisclosureError, inspect_file
from aidisclose.carriers.c2pa.trust import TrustSettings
from aidisclose.check import check_file, policy_subject
from aidisclose.policy import builtin_names, load_policy
from aidisclose.policy.engine import _FACTS
from aidisclose.record import DisclosureRecord

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

JPEG = FIXTURES / "images" / "photo.jpg"
FLAC = FIXTURES / "audio" / "tone.flac"
MP3 = FIXTURES / "audio" / "tone.mp3"
GENERATED = "digital_source_type=trainedAlgorithmicMedia"  # made from nothing: the manifest's c2pa.created action


def stamp(source: Path, out: Path, *options: str | Path) -> Path:
    result = run_cli("stamp", source, "-r", EXAMPLE_RECORD, "-o", out, *options)
    assert result.exit_code == 0, result.stderr
    return out / source.name


def outcomes(path: Path, policy: str, trust: TrustSettings | None = None) -> dict[str, tuple[str, Any, str]]:
    checked = check_file(path, [load_policy(policy)], trust=trust)
    return {r.rule: (r.outcome.value, r.actual, r.message) for r in checked.results}


@pytest.fixture(scope="module")
def generated_signed(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path], tsa: dict[str, Any]) -> Path:
    """An AI-generated JPEG, stamped and signed with a time-stamp from a real RFC 3161 authority."""
    out = tmp_path_factory.mktemp("signed")
    return stamp(JPEG, out, "--set", GENERATED, "--sign-cert", keys["chain"], "--sign-key", keys["key"],
                 "--tsa-url", tsa["url"])  # fmt: skip


def full_trust(keys: dict[str, Path], tsa: dict[str, Any]) -> TrustSettings:
    return TrustSettings(anchors=keys["ca"].read_bytes(), tsa_anchors=Path(tsa["ca"]).read_bytes())


def test_a_signed_time_stamped_ai_file_meets_the_code_of_practice_but_its_watermark_is_not_checked(
    generated_signed: Path, keys: dict[str, Path], tsa: dict[str, Any]
) -> None:
    found = outcomes(generated_signed, "eu-cop-2026", full_trust(keys, tsa))
    for rule in ("cop.signed-metadata", "cop.signed-ai-source-type", "cop.trusted-timestamp",
                 "cop.upstream-manifests-kept", "eu.machine-readable-mark", "eu.mark-is-ai-term"):  # fmt: skip
        assert found[rule][0] == "pass", (rule, found[rule])
    assert found["cop.parent-credentials-kept"][0] == "n/a"  # generated from nothing: no parent to keep
    outcome, actual, message = found["cop.watermark-not-checked"]
    assert outcome == "warn" and actual.startswith("not checked: ") and "NOT CHECKED" in message
    checked = check_file(generated_signed, [load_policy("eu-cop-2026")], trust=full_trust(keys, tsa), strict=True)
    not_passed = [r.rule for r in checked.results if r.outcome.value not in ("pass", "n/a")]
    assert (checked.verdict.value, not_passed) == ("fail", ["cop.watermark-not-checked"])  # strict: never a silent pass


def test_a_time_stamp_whose_authority_is_not_trusted_fails_the_code(generated_signed: Path) -> None:
    outcome, actual, _ = outcomes(generated_signed, "eu-cop-2026")["cop.trusted-timestamp"]
    assert (outcome, actual) == ("fail", "validated (the time-stamp authority is not trusted)")


def test_an_unsigned_ai_file_fails_the_code_once_at_signing(tmp_path: Path) -> None:
    found = outcomes(stamp(JPEG, tmp_path), "eu-cop-2026")
    assert found["cop.signed-metadata"][:2] == ("fail", "none")
    assert found["cop.trusted-timestamp"][0] == "n/a"
    assert found["eu.machine-readable-mark"][0] == "pass"  # the IPTC mark in XMP still meets Art. 50(2)


def test_an_edit_keeps_its_parents_credentials_and_the_code_sees_it(tmp_path: Path, keys: dict[str, Path]) -> None:
    sign = ("--sign-cert", keys["chain"], "--sign-key", keys["key"])
    plain_parent = stamp(JPEG, tmp_path / "one", *sign)  # an AI edit of a photo that had no manifest
    assert outcomes(plain_parent, "eu-cop-2026")["cop.parent-credentials-kept"][:2] == ("warn", False)
    again = stamp(plain_parent, tmp_path / "two", *sign, "--set", "asset_id=SHOT010_V005")
    facts, _ = policy_subject(info := inspect_file(again, technical=False), info.record.to_json_dict())
    assert facts["c2pa"]["has_parent"] and facts["c2pa"]["parent_has_manifest"], facts["c2pa"]
    assert facts["c2pa"]["ingredient_manifest_count"] == 1
    assert outcomes(again, "eu-cop-2026")["cop.parent-credentials-kept"][0] == "pass"


def test_the_facts_rules_read_are_the_ones_policies_may_name(
    generated_signed: Path, keys: dict[str, Path], tsa: dict[str, Any]
) -> None:
    """policy_subject gives every fact the engine declares, and no other (this file has every optional one but
    the sidecars, which only a file whose metadata lives beside it has)."""
    info = inspect_file(generated_signed, technical=False, trust=full_trust(keys, tsa))
    facts, _ = policy_subject(info, info.record.to_json_dict())
    assert set(facts) - set(DisclosureRecord.model_fields) == set(_FACTS)
    for group, names in _FACTS.items():
        assert set(facts[group]) == set(names) - {"sidecar"}, group


def test_the_facts_of_a_file_without_a_manifest_are_declared_too(tmp_path: Path) -> None:
    info = inspect_file(stamp(FLAC, tmp_path), technical=False)
    facts, _ = policy_subject(info, info.record.to_json_dict())
    for group, names in _FACTS.items():
        assert set(facts[group]) <= set(names), group


def test_an_aidisclose_stamped_file_carries_the_ai_act_mark_in_iptc_xmp(tmp_path: Path) -> None:
    # the record's value is read from aidisclose's own namespace; the IPTC property beside it is the standard mark
    assert outcomes(stamp(MP3, tmp_path), "eu-ai-act-art50")["eu.machine-readable-mark"][0] == "pass"
    assert outcomes(stamp(FLAC, tmp_path), "eu-ai-act-art50")["eu.machine-readable-mark"][0] == "fail"


def test_sb942_takes_the_latent_disclosure_from_xmp_not_from_a_tool_tag(tmp_path: Path) -> None:
    items = ("sb942.ai-marked", "sb942.provider", "sb942.system-name-and-version", "sb942.creation-time",
             "sb942.unique-id")  # fmt: skip
    in_xmp = outcomes(stamp(JPEG, tmp_path), "ca-sb942")
    assert all(in_xmp[rule][0] == "pass" for rule in items), in_xmp
    in_vorbis = outcomes(stamp(FLAC, tmp_path), "ca-sb942")  # FLAC: Vorbis comments only
    for rule in items:
        outcome, actual, _ = in_vorbis[rule]
        assert outcome == "fail" and str(actual).startswith("vorbis:"), (rule, in_vorbis[rule])


def test_platform_readiness_flags_a_file_no_platform_would_label(tmp_path: Path) -> None:
    nowhere = outcomes(stamp(FLAC, tmp_path), "platform-ready")
    assert nowhere["platform.labelled-somewhere"][0] == "fail"
    assert {nowhere[r][0] for r in ("platform.meta-ai-info", "platform.youtube-c2pa", "platform.google-ai-term")} == {
        "warn"
    }
    xmp = outcomes(stamp(JPEG, tmp_path), "platform-ready")  # compositeWithTrainedAlgorithmicMedia in IPTC XMP
    assert xmp["platform.labelled-somewhere"][0] == "pass"
    assert (xmp["platform.meta-ai-info"][0], xmp["platform.google-ai-term"][0]) == ("pass", "pass")
    assert xmp["platform.youtube-c2pa"][:2] == ("warn", "none")  # YouTube reads C2PA only


def test_platform_readiness_counts_a_signed_claim_v2_manifest_for_youtube(generated_signed: Path) -> None:
    found = outcomes(generated_signed, "platform-ready")
    assert found.pop("platform.no-ai-mark-without-ai-use")[0] == "n/a"  # for files saying no AI was used
    assert all(outcome == "pass" for outcome, *_ in found.values()), found


def test_policy_show_prints_each_builtin_with_its_sources() -> None:
    for name in builtin_names():
        policy = load_policy(name)
        shown = run_cli("policy", "show", name)
        assert shown.exit_code == 0, shown.stderr
        assert shown.stdout.startswith(f"# {name}: {policy.description}\n")
        for reference in policy.references:
            assert f"#   - {reference}\n" in shown.stdout
        assert tomllib.loads(shown.stdout)["policy"]["name"] == name  # still a policy file, saved as shown
        as_json = run_cli("policy", "show", name, "--format", "json").json()
        assert (as_json["name"], as_json["references"]) == (name, list(policy.references))
        assert [r["id"] for r in as_json["rules"]] == [r.id for r in policy.rules]
    cop = run_cli("policy", "show", "eu-cop-2026").stdout
    assert "# extends: eu-ai-act-art50" in cop and "Code of Practice on Transparency of AI-Generated Content" in cop
    for name in ("eu-cop-2026", "eu-ai-act-art50", "ca-sb942", "platform-ready"):
        assert load_policy(name).references, name


def test_policy_list_gives_the_sources_too() -> None:
    listing = run_cli("policy", "list").stdout
    assert "source: California AB 853" in listing and "platform-ready" in listing
    listed = {p["name"]: p for p in run_cli("policy", "list", "--format", "json").json()}
    assert set(listed) == set(builtin_names())
    assert listed["eu-cop-2026"]["extends"] == ["eu-ai-act-art50"]


def test_a_check_report_names_each_policys_sources(tmp_path: Path) -> None:
    report = run_cli("check", stamp(JPEG, tmp_path), "-p", "ca-sb942", "--format", "json").json()
    (policy,) = report["policies"]
    assert policy["references"] == list(load_policy("ca-sb942").references)


@pytest.mark.parametrize(
    ("references", "words"),
    [
        ('"SB 942"', "must be a list of texts"),
        ('["SB 942", 3]', "must be a list of texts"),
        ('["  "]', "must be a list of texts"),
        ("[" + ", ".join(['"x"'] * 33) + "]", "at most 32"),
        ('["' + "x" * 401 + '"]', "text #1 is longer than 400"),
    ],
)
def test_bad_references_are_refused_with_the_line(tmp_path: Path, references: str, words: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f'[policy]\nname = "studio"\nreferences = {references}\n')
    with pytest.raises(DisclosureError) as err:
        load_policy(path)
    message = err.value.one_line()
    assert words in message and "(line 3)" in message and str(path) in message


def test_a_policy_extending_a_builtin_adds_its_own_references_first(tmp_path: Path) -> None:
    path = tmp_path / "studio.toml"
    path.write_text('[policy]\nextends = "ca-sb942"\nreferences = ["Studio AI delivery spec v3"]\n')
    policy = load_policy(path)
    assert policy.references == ("Studio AI delivery spec v3", *load_policy("ca-sb942").references)


def test_the_qc_page_names_each_policys_sources_as_text(tmp_path: Path) -> None:
    policy = tmp_path / "studio.toml"
    policy.write_text('[policy]\nextends = "ca-sb942"\nreferences = ["<script>alert(1)</script> spec \\u202e v3"]\n')
    page = tmp_path / "qc.html"
    checked = run_cli("check", stamp(JPEG, tmp_path / "out"), "-p", policy, "--format", "html", "--output", page)
    assert checked.exit_code == 0, checked.stderr
    html = page.read_text()
    assert "source: California AB 853 (Chapter 674" in html
    assert "<script>alert" not in html and "source: &lt;script&gt;alert(1)&lt;/script&gt; spec" in html
    assert "\u202e" not in html


def test_every_builtin_policy_names_its_sources() -> None:
    for name in builtin_names():
        assert load_policy(name).references, f"{name} names no law or guidance in [policy] references"
