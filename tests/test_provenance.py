"""Existing provenance is never destroyed or hidden; validation is told per manifest.

On real signed files (fixtures/foreign/, from the c2pa-rs test suite) and on files signed here.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from mutagen.id3 import ID3

from aidisclose import inspect_file, load_record, stamp
from aidisclose.carriers.c2pa.identity import SigningIdentity

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli, snapshot

FOREIGN = FIXTURES / "foreign"
CAMERA = FOREIGN / "CA_ct.jpg"  # one manifest, signed by the c2pa-rs test signer
TEST_ROOTS = FOREIGN / "test_cert_root_bundle.pem"
JPEG = FIXTURES / "images" / "photo.jpg"
MP4 = FIXTURES / "video" / "clip.mp4"
OGG = FIXTURES / "audio" / "tone.ogg"


def sign_options(keys: dict[str, Path]) -> list[str | Path]:
    return ["--sign", "--sign-cert", keys["chain"], "--sign-key", keys["key"]]


def signed(source: Path, folder: Path, identity: SigningIdentity, *sets: str) -> Path:
    return stamp(source, load_record(EXAMPLE_RECORD, list(sets)), output_dir=folder, signing=identity).destination


@pytest.mark.parametrize("source", [CAMERA, MP4], ids=lambda p: p.name)
def test_stamping_signed_file_without_sign_is_refused_and_nothing_written(
    source: Path, tmp_path: Path, identity: SigningIdentity
) -> None:
    original = source if source is CAMERA else signed(source, tmp_path / "signed", identity)
    target = tmp_path / "in" / original.name
    target.parent.mkdir()
    shutil.copyfile(original, target)
    before = snapshot(target)
    for where in (["-o", tmp_path / "out"], ["--in-place"]):
        result = run_cli("stamp", target, "-r", EXAMPLE_RECORD, "--set", "asset_id=OTHER", *where)
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert "C2PA content credentials" in line and "--sign" in line and "--discard-credentials" in line
        assert snapshot(target) == before
    assert not (tmp_path / "out" / original.name).exists()


def test_discarding_credentials_of_a_camera_original_is_called_a_metadata_change(tmp_path: Path) -> None:
    result = run_cli("stamp", CAMERA, "-r", EXAMPLE_RECORD, "-o", tmp_path, "--discard-credentials")
    assert result.exit_code == 0, result.stderr
    assert "credentials were discarded" in result.stderr
    found = inspect_file(tmp_path / CAMERA.name).c2pa
    assert found.state == "invalid" and "assertion.dataHash.mismatch" in found.codes
    assert found.message is not None and found.message.startswith("metadata was changed after signing")


def test_signing_a_camera_original_keeps_its_manifest_as_the_parent(tmp_path: Path, keys: dict[str, Path]) -> None:
    assert run_cli("stamp", CAMERA, "-r", EXAMPLE_RECORD, "-o", tmp_path, *sign_options(keys)).exit_code == 0
    earlier = inspect_file(CAMERA).c2pa.active_manifest
    found = inspect_file(tmp_path / CAMERA.name, trust_anchors=TEST_ROOTS.read_bytes()).c2pa
    (parent,) = [i for i in found.ingredients if i.relationship == "parentOf"]
    assert (parent.active_manifest, parent.state) == (earlier, "trusted")


@pytest.mark.parametrize("signing", [False, True], ids=["unsigned-run", "signed-run"])
def test_restamping_a_signed_file_with_its_record_to_output_copies_it_unchanged(
    signing: bool, tmp_path: Path, keys: dict[str, Path], identity: SigningIdentity
) -> None:
    first = signed(JPEG, tmp_path / "one", identity)
    options = sign_options(keys) if signing else []
    result = run_cli("stamp", first, "-r", EXAMPLE_RECORD, "-o", tmp_path / "two", *options, "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert result.json()["stamped"][0]["action"] == "unchanged"
    assert (tmp_path / "two" / JPEG.name).read_bytes() == first.read_bytes()
    assert inspect_file(tmp_path / "two" / JPEG.name).c2pa.state == "valid"


def tamper_scan_data(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[data.rfind(b"\xff\xd9") - 40] ^= 0x55  # one byte of the compressed pixels
    path.write_bytes(data)


def break_claim_signature(path: Path) -> None:
    """Change the manifest label inside the claim only: the claim signature no longer matches."""
    data = path.read_bytes()
    label = re.search(rb"urn:c2pa:[0-9a-f-]{36}", data)
    assert label is not None
    later = data.index(label.group(), label.end())
    path.write_bytes(data[: later + 9] + b"ffff" + data[later + 13 :])


@pytest.mark.parametrize("damage", [tamper_scan_data, break_claim_signature], ids=lambda f: f.__name__)
def test_signing_over_an_invalid_manifest_warns_and_shows_the_parents_failure(
    damage: object, tmp_path: Path, keys: dict[str, Path], identity: SigningIdentity
) -> None:
    first = signed(JPEG, tmp_path / "one", identity)
    damage(first)  # type: ignore[operator]
    failure = inspect_file(first).c2pa.codes
    assert inspect_file(first).c2pa.state == "invalid"
    result = run_cli("stamp", first, "-r", EXAMPLE_RECORD, "--set", "asset_id=V2", "-o", tmp_path / "two",
                     *sign_options(keys))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "earlier C2PA manifest does not validate" in result.stderr
    out = tmp_path / "two" / JPEG.name
    trusted = ["--trust", keys["ca"]]
    report = run_cli("inspect", out, *trusted, "-f", "json").json()["files"][0]["c2pa"]
    assert report["state"] == "trusted"
    (parent,) = report["ingredients"]
    assert parent["state"] == "invalid"
    assert set(failure) - {"signingCredential.untrusted"} <= set(parent["validation"]["failure"])
    text = run_cli("inspect", out, *trusted).stdout
    assert re.search(r"ingredient photo\.jpg \(parentOf\): invalid, signed by .*\(", text)
    check = run_cli("check", out, "-p", "c2pa-strict", *trusted, "-f", "json")
    failed = {r["rule"] for r in check.json()["files"][0]["results"] if r["outcome"] == "fail"}
    assert check.exit_code == 1 and failed == {"c2pa.ingredients-valid"}


def test_a_manifest_without_earlier_manifests_claims_none(tmp_path: Path, identity: SigningIdentity) -> None:
    out = signed(JPEG, tmp_path, identity)  # an edit: the unsigned original is its parent ingredient
    assert [i.active_manifest for i in inspect_file(out).c2pa.ingredients] == [None]
    assert "earlier manifest" not in run_cli("inspect", out).stdout


def test_sidecar_restamp_carries_the_earlier_manifest_as_parent(
    tmp_path: Path, keys: dict[str, Path], identity: SigningIdentity
) -> None:
    first = signed(OGG, tmp_path, identity)
    earlier = inspect_file(first).c2pa.active_manifest
    assert earlier is not None
    stamp(first, load_record(EXAMPLE_RECORD, ["asset_id=V2"]), in_place=True, signing=identity)
    found = inspect_file(first, trust_anchors=keys["ca"].read_bytes()).c2pa
    assert found.state == "trusted" and found.active_manifest != earlier
    (parent,) = found.ingredients
    assert (parent.active_manifest, parent.state) == (earlier, "trusted")
    assert "ingredient.unknownProvenance" not in parent.validation.informational


def test_validation_is_kept_per_manifest_and_each_code_once() -> None:
    found = inspect_file(FOREIGN / "legacy_ingredient_hash.jpg", technical=False).c2pa
    assert found.codes == ["signingCredential.untrusted"]
    assert "signingCredential.ocsp.skipped" in found.validation.informational
    with_manifest = [i for i in found.ingredients if i.active_manifest]
    (ingredient,) = with_manifest
    assert ingredient.title == "CA.jpg" and ingredient.state == "valid"
    assert ingredient.validation.failure == ["signingCredential.untrusted"]
    assert ingredient.signer["common_name"] == "C2PA Signer"
    informational = inspect_file(CAMERA, technical=False).c2pa.validation.informational
    assert "timeStamp.malformed" in informational  # an informational code is kept, not dropped


def test_trusted_active_signer_with_untrusted_ingredient_signer_says_so(tmp_path: Path, keys: dict[str, Path]) -> None:
    run_cli("stamp", CAMERA, "-r", EXAMPLE_RECORD, "-o", tmp_path, *sign_options(keys))
    text = run_cli("inspect", tmp_path / CAMERA.name, "--trust", keys["ca"]).stdout
    assert "c2pa: trusted" in text
    assert "ingredient CA_ct.jpg (parentOf): valid (signer not trusted), signed by C2PA Signer" in text


def test_a_remote_manifest_is_not_fetched_and_reads_as_remote() -> None:
    result = run_cli("inspect", FOREIGN / "cloud.jpg", "-f", "json")
    found = result.json()["files"][0]["c2pa"]
    assert found["state"] == "remote"
    assert (
        found["remote_url"]
        == "https://cai-manifests.adobe.com/manifests/adobe-urn-uuid-5f37e182-3687-462e-a7fb-573462780391"
    )
    assert "remote" in run_cli("inspect", FOREIGN / "cloud.jpg").stdout


@pytest.mark.parametrize(
    "source", [FIXTURES / "audio" / "tone.mp3", FIXTURES / "audio" / "tone.flac"], ids=lambda p: p.suffix
)
def test_the_deprecated_id3_manifest_type_is_found(source: Path, tmp_path: Path, identity: SigningIdentity) -> None:
    out = signed(source, tmp_path, identity)
    tags = ID3(out)
    (frame,) = tags.getall("GEOB")
    frame.mime = "application/x-c2pa-manifest-store"  # the type C2PA 1.x files carry
    tags.save(out)
    assert inspect_file(out, technical=False).c2pa.state != "none"


def test_a_file_whose_only_disclosure_is_a_valid_manifest_passes_the_ai_policies(
    tmp_path: Path, identity: SigningIdentity
) -> None:
    from aidisclose.carriers.c2pa.manifest import build_manifest
    from aidisclose.carriers.c2pa.signing import sign
    from aidisclose.formats import detect

    record = load_record(EXAMPLE_RECORD).to_json_dict()
    out = tmp_path / JPEG.name
    manifest = build_manifest(record, JPEG.name, frozenset(), parent=True)
    sign(JPEG, out, detect(JPEG).manifest_place, manifest, identity, parent=JPEG)
    result = inspect_file(out, technical=False)
    assert result.c2pa.state == "valid" and "c2pa" in result.provenance.carriers
    assert result.record.digital_source_type == "compositeWithTrainedAlgorithmicMedia"
    assert result.record.ai_used is True and result.record.ai_systems[0].name == "ExampleGen"
    assert result.record.training_mining == "not-allowed"
    assert set(result.provenance.sources.values()) == {"c2pa:c2pa.actions", "c2pa:cawg.training-mining"}
    assert run_cli("check", out, "-p", "eu-ai-act-art50").exit_code == 0
    report = run_cli("check", out, "-p", "genai-production", "-f", "json").json()["files"][0]["results"]
    outcome = {r["rule"]: r["outcome"] for r in report}
    ai_rules = ["ai-used-declared", "ai-source-type", "ai-systems-named", "training-mining"]
    assert {rule: outcome[f"attribution.{rule}"] for rule in ai_rules} == dict.fromkeys(ai_rules, "pass")
