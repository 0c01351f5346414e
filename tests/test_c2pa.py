"""C2PA content credentials: sign on stamp, validate on inspect, trust, tamper evidence, ingredients."""

from __future__ import annotations

from pathlib import Path

import c2pa
import pytest
from cryptography import x509

from aidisclose import inspect_file, load_record, stamp
from aidisclose.carriers.c2pa.identity import SigningIdentity
from aidisclose.carriers.c2pa.manifest import REDACTABLE, redacted
from aidisclose.carriers.exiv2 import edit_metadata

from .conftest import EXAMPLE_RECORD, FIXTURES, SIGNED_EMBEDDED, SIGNED_SIDECAR, exiftool_json, run_cli, snapshot

EMBEDDED, SIDECAR = SIGNED_EMBEDDED, SIGNED_SIDECAR
JPEG = EMBEDDED[0]
DST_URI = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
names = lambda p: p.name  # noqa: E731


def signed_copy(source: Path, folder: Path, identity: SigningIdentity, **options: object) -> Path:
    result = stamp(source, load_record(EXAMPLE_RECORD), output_dir=folder, signing=identity, **options)  # type: ignore[arg-type]
    return result.destination


def test_keys_init_makes_a_c2pa_certificate_labelled_untrusted(keys: dict[str, Path]) -> None:
    chain = x509.load_pem_x509_certificates(keys["chain"].read_bytes())
    signer, ca = chain
    assert ca.subject == signer.issuer
    eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    assert signer.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert not signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert "untrusted" in signer.subject.rfc4514_string().lower()
    assert "TEST ONLY" in (keys["ca"].parent / "README.txt").read_text()
    assert keys["key"].stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("source", EMBEDDED, ids=names)
def test_signed_file_is_valid_and_trusted_with_the_test_ca(
    source: Path, tmp_path: Path, keys: dict[str, Path], identity: SigningIdentity
) -> None:
    signed = signed_copy(source, tmp_path, identity)
    with c2pa.Reader(str(signed)) as reader:  # the SDK's own reader as a witness
        assert reader.get_validation_state() == "Valid"
        assertions = {a["label"]: a["data"] for a in reader.get_active_manifest()["assertions"]}
    action, *_ = [a for a in assertions["c2pa.actions.v2"]["actions"] if a["action"] != "c2pa.opened"]
    assert action["digitalSourceType"] == DST_URI
    assert assertions["c2pa.actions.v2"]["softwareAgents"][action["softwareAgentIndex"]] == {
        "name": "ExampleGen",
        "version": "4.2",
    }
    assert assertions["cawg.training-mining"]["entries"]["cawg.ai_generative_training"]["use"] == "notAllowed"
    assert assertions["org.aidisclose.record"] == redacted(load_record(EXAMPLE_RECORD).to_json_dict(), REDACTABLE)

    untrusted = run_cli("inspect", signed, "-f", "json").json()["files"][0]["c2pa"]
    assert untrusted["state"] == "valid" and "signingCredential.untrusted" in untrusted["codes"]
    trusted = run_cli("inspect", signed, "--trust", keys["ca"], "-f", "json").json()["files"][0]
    assert trusted["c2pa"]["state"] == "trusted"
    assert trusted["c2pa"]["signer"]["common_name"] == "aidisclose TEST signer (untrusted)"
    assert trusted["provenance"]["conflicts"] == []
    assert inspect_file(signed).record == load_record(EXAMPLE_RECORD)  # metadata written first survives signing


@pytest.mark.parametrize("source", [JPEG, FIXTURES / "audio" / "tone.wav"], ids=names)
def test_exiftool_still_reads_the_xmp_of_a_signed_file(source: Path, tmp_path: Path, identity: SigningIdentity) -> None:
    assert exiftool_json(signed_copy(source, tmp_path, identity), "-XMP:all")["DigitalSourceType"] == DST_URI


def test_tampered_essence_is_invalid_with_the_sdk_code(tmp_path: Path, identity: SigningIdentity) -> None:
    signed = signed_copy(JPEG, tmp_path, identity)
    data = bytearray(signed.read_bytes())
    data[data.rfind(b"\xff\xd9") - 40] ^= 0x55  # one byte of the compressed pixels
    signed.write_bytes(data)
    found = inspect_file(signed).c2pa
    assert found.state == "invalid"
    assert "assertion.dataHash.mismatch" in found.codes
    assert found.message is not None and found.message.startswith("the content changed after signing")


def test_metadata_changed_after_signing_is_called_so(tmp_path: Path, identity: SigningIdentity) -> None:
    import subprocess

    signed = signed_copy(JPEG, tmp_path, identity)
    subprocess.run(["exiftool", "-q", "-overwrite_original", "-XMP-dc:Rights=Changed", str(signed)], check=True)
    found = inspect_file(signed).c2pa
    assert found.state == "invalid"
    assert found.message is not None and "metadata was changed after signing" in found.message
    assert "metadata was changed after signing" in run_cli("inspect", signed).stdout


def test_restamp_keeps_the_earlier_manifest_as_parent_ingredient(tmp_path: Path, identity: SigningIdentity) -> None:
    first = signed_copy(JPEG, tmp_path / "one", identity)
    earlier = inspect_file(first).c2pa.active_manifest
    second = stamp(first, load_record(EXAMPLE_RECORD, ["asset_id=V2"]), output_dir=tmp_path / "two", signing=identity)
    found = inspect_file(second.destination).c2pa
    assert found.state == "valid" and found.active_manifest != earlier
    (parent,) = found.ingredients
    assert (parent.title, parent.relationship, parent.active_manifest) == ("photo.jpg", "parentOf", earlier)
    assert [a["action"] for a in found.actions] == ["c2pa.opened", "c2pa.edited.metadata"]  # the AI use is signed
    assert inspect_file(second.destination).record.asset_id == "V2"


def test_redact_leaves_personal_data_out_of_the_manifest(tmp_path: Path, identity: SigningIdentity) -> None:
    signed = signed_copy(JPEG, tmp_path, identity, redact=frozenset({"prompts", "persons"}))
    record = inspect_file(signed).c2pa.record
    assert record is not None
    assert "prompts" not in record and "creators" not in record
    assert record["likeness"][0]["person"] == "[redacted]" and "reviewer" not in record["human_review"]
    assert record["digital_source_type"] == "compositeWithTrainedAlgorithmicMedia"
    assert inspect_file(signed).record.prompts  # the file's own carriers still hold what the user stamped


@pytest.mark.parametrize("source", SIDECAR, ids=names)
def test_formats_the_sdk_cannot_embed_get_a_c2pa_sidecar(
    source: Path, tmp_path: Path, keys: dict[str, Path], identity: SigningIdentity
) -> None:
    result = run_cli(
        "stamp",
        source,
        "-r",
        EXAMPLE_RECORD,
        "-o",
        tmp_path,
        "--sign",
        "--sign-cert",
        keys["chain"],
        "--sign-key",
        keys["key"],
    )
    assert result.exit_code == 0, result.stderr
    sidecar = tmp_path / (source.name + ".c2pa")
    assert sidecar.exists()
    found = inspect_file(tmp_path / source.name, trust_anchors=keys["ca"].read_bytes()).c2pa
    assert (found.state, found.sidecar) == ("trusted", str(sidecar))


def test_signing_settings_from_environment(
    tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIDISCLOSE_SIGN_CERT", str(keys["chain"]))
    monkeypatch.setenv("AIDISCLOSE_SIGN_KEY", str(keys["key"]))
    assert run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", tmp_path, "--sign").exit_code == 0
    assert inspect_file(tmp_path / JPEG.name).c2pa.state == "valid"


def test_sign_without_keys_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIDISCLOSE_SIGN_CERT", raising=False)
    monkeypatch.delenv("AIDISCLOSE_SIGN_KEY", raising=False)
    result = run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", tmp_path, "--sign")
    assert result.exit_code == 2 and "keys init" in result.stderr
    assert not (tmp_path / JPEG.name).exists()


def corrupt_manifest(signed: Path) -> None:
    """Overwrite bytes in the middle of the embedded manifest store (JPEG APP11/JUMBF)."""
    data = bytearray(signed.read_bytes())
    start = data.index(b"jumb")
    for offset in range(start + 200, start + 260):
        data[offset] ^= 0xA5
    signed.write_bytes(data)


def test_broken_manifest_reads_as_invalid_never_a_crash(tmp_path: Path, identity: SigningIdentity) -> None:
    signed = signed_copy(JPEG, tmp_path, identity)
    corrupt_manifest(signed)
    before = snapshot(signed)
    result = run_cli("inspect", signed, "-f", "json")
    assert result.exit_code == 0
    assert result.json()["files"][0]["c2pa"]["state"] == "invalid"
    assert snapshot(signed) == before


def test_stamping_over_a_broken_manifest_fails_cleanly_or_succeeds(
    tmp_path: Path, keys: dict[str, Path], identity: SigningIdentity
) -> None:
    signed = signed_copy(JPEG, tmp_path / "in", identity)
    corrupt_manifest(signed)
    before = snapshot(signed)
    sign_options = ["--sign", "--sign-cert", keys["chain"], "--sign-key", keys["key"]]
    result = run_cli("stamp", signed, "-r", EXAMPLE_RECORD, "--in-place", *sign_options)
    if result.exit_code == 0:  # the SDK may yet accept a parent it can partly read
        assert inspect_file(signed).c2pa.state == "valid"
    else:
        assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
        assert snapshot(signed) == before
    assert not list(signed.parent.glob(".*aidisclose-tmp*"))


def test_check_c2pa_strict_needs_the_trust_anchor(
    tmp_path: Path, keys: dict[str, Path], identity: SigningIdentity
) -> None:
    signed = signed_copy(JPEG, tmp_path, identity)
    without = run_cli("check", signed, "-p", "c2pa-strict", "-f", "json")
    assert without.exit_code == 1
    failed = {r["rule"]: r["actual"] for r in without.json()["files"][0]["results"] if r["outcome"] == "fail"}
    assert failed == {"c2pa.signer-trusted": "valid"}
    assert run_cli("check", signed, "-p", "c2pa-strict", "--trust", keys["ca"]).exit_code == 0
    assert run_cli("check", JPEG, "-p", "c2pa-strict").exit_code == 1  # no manifest at all


def test_manifest_source_type_disagreeing_with_xmp_is_a_conflict(tmp_path: Path, identity: SigningIdentity) -> None:
    record = load_record(EXAMPLE_RECORD, ["digital_source_type=trainedAlgorithmicMedia"])
    signed = stamp(JPEG, record, output_dir=tmp_path, signing=identity).destination
    # Another writer changes the source type in every XMP property that holds it, ours included.
    changed = edit_metadata(signed.read_bytes(), signed, {"xmp": {
        "Xmp.iptcExt.DigitalSourceType": DST_URI, "Xmp.aidisclose.DigitalSourceType": DST_URI.rsplit("/", 1)[1]
    }})  # fmt: skip
    signed.write_bytes(changed)
    result = inspect_file(signed)
    (conflict,) = [c for c in result.provenance.conflicts if c.other_source == "c2pa:c2pa.actions"]
    assert (conflict.value, conflict.other_value) == ("compositeWithTrainedAlgorithmicMedia", "trainedAlgorithmicMedia")
    report = run_cli("check", signed, "-f", "json").json()
    failing = {r["rule"] for r in report["files"][0]["results"] if r["outcome"] == "fail"}
    assert {"metadata.c2pa-source-type-agrees", "metadata.c2pa-not-tampered", "metadata.carriers-agree"} <= failing


def test_json_c2pa_state_is_none_for_an_unsigned_file() -> None:
    found = run_cli("inspect", JPEG, "-f", "json").json()["files"][0]["c2pa"]
    assert found["state"] == "none" and found["codes"] == []


@pytest.mark.parametrize("source", EMBEDDED, ids=names)
def test_header_prescan_never_hides_a_manifest(source: Path, tmp_path: Path, identity: SigningIdentity) -> None:
    from aidisclose.formats import detect

    look = detect(source).c2pa_prescan
    signed = signed_copy(source, tmp_path, identity)
    assert look is not None and look(signed)
    assert c2pa.Reader.try_create(str(source)) is None  # the fixture is unsigned, so skipping the SDK loses nothing


@pytest.mark.parametrize("source", EMBEDDED, ids=names)
def test_header_prescan_spares_the_sdk_on_an_unsigned_file(source: Path) -> None:
    from aidisclose.formats import detect

    look = detect(source).c2pa_prescan
    assert look is not None and not look(source)


def test_header_prescan_finds_a_png_manifest_placed_after_the_image_data(
    tmp_path: Path, identity: SigningIdentity
) -> None:
    from aidisclose.carriers.c2pa.prescan import png_may_hold

    data = signed_copy(FIXTURES / "images" / "overlay.png", tmp_path, identity).read_bytes()
    chunks, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        chunks.append(data[position : position + 12 + length])
        position += 12 + length
    (manifest,) = [c for c in chunks if c[4:8] == b"caBX"]
    chunks.remove(manifest)
    chunks.insert(len(chunks) - 1, manifest)  # just before IEND, after every IDAT
    moved = tmp_path / "late.png"
    moved.write_bytes(data[:8] + b"".join(chunks))
    assert png_may_hold(moved)
