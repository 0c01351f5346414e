"""Trust like a verifier: anchors, an allowed list, a trust configuration, TSA and CAWG anchors.

The SDK's own verdicts on its fixtures (fixtures/foreign/, from the c2pa-rs test suite, with its
test roots) are reproduced, and inspect names the anchor that made each signer trusted.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from aidisclose import inspect_file, load_record, stamp
from aidisclose.carriers.c2pa.identity import SigningIdentity, make_test_ca
from aidisclose.carriers.c2pa.reading import sdk_context
from aidisclose.carriers.c2pa.sdk import sdk
from aidisclose.carriers.c2pa.trust import CLAIM_SIGNING_EKU, TrustSettings

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli
from .tsa import make_ca

FOREIGN = FIXTURES / "foreign"
TEST_ROOTS = FOREIGN / "test_cert_root_bundle.pem"
SIGNED_FOREIGN = [
    FOREIGN / name
    for name in (
        "CA_ct.jpg",
        "boxhash.jpg",
        "dashinit.mp4",
        "ocsp.jpg",
        "update_manifest.jpg",
        "legacy_ingredient_hash.jpg",
    )
]
JPEG = FIXTURES / "images" / "photo.jpg"
#: The c2pa-rs test root that issued the CA_ct.jpg signer's intermediate (one of eight sharing this subject).
CA_CT_ROOT = (
    "anchor CN=Root CA,OU=FOR TESTING_ONLY,O=C2PA Test Root CA,L=Somewhere,ST=CA,C=US (SHA-256 7e7fc77fdb8f082d)"
)


def _leaf(chain: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificates(chain.read_bytes())[0]


def _ca_subject(ca: Path) -> str:
    return x509.load_pem_x509_certificate(ca.read_bytes()).subject.rfc4514_string()


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_test_ca(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_test_ca(tmp_path_factory.mktemp("other-keys"))


def _sdk_state(path: Path, trust: TrustSettings) -> str:
    """The SDK's own verdict, read straight from c2pa-python's Reader with the same settings."""
    with sdk().Reader.try_create(str(path), context=sdk_context(trust)) as reader:
        return str(reader.get_validation_state()).lower()


def _allowed_by_hash(chain: Path) -> bytes:
    der = _leaf(chain).public_bytes(serialization.Encoding.DER)
    return base64.b64encode(hashlib.sha256(der).digest()) + b"\n"


def signed(folder: Path, chain: Path, key: Path, source: Path = JPEG, *sets: str) -> Path:
    identity = SigningIdentity.from_files(chain, key)
    return stamp(source, load_record(EXAMPLE_RECORD, list(sets)), output_dir=folder, signing=identity).destination


@pytest.mark.parametrize("settings", ["anchors", "anchors+eku", "allowed"])
def test_sdk_verdicts_on_its_own_fixtures_are_reproduced_with_the_anchor_named(
    settings: str, keys: dict[str, Path]
) -> None:
    roots = TEST_ROOTS.read_bytes()
    trust = {
        "anchors": TrustSettings(anchors=roots),
        # Only emailProtection: the c2pa-rs test signers carry it, so their verdicts stand.
        "anchors+eku": TrustSettings(anchors=roots, config=b"1.3.6.1.5.5.7.3.4\n"),
        # None of these signers is on it: nothing is trusted.
        "allowed": TrustSettings(allowed=_allowed_by_hash(keys["chain"])),
    }[settings]
    verdicts = {}
    for path in SIGNED_FOREIGN:
        found = inspect_file(path, technical=False, trust=trust).c2pa
        assert found.state == _sdk_state(path, trust), path.name
        assert (found.trusted_by is not None) == (found.state == "trusted"), path.name
        verdicts[path.name] = found.state
    expected = {
        "CA_ct.jpg": "trusted",
        "boxhash.jpg": "trusted",
        "dashinit.mp4": "invalid",
        "ocsp.jpg": "valid",
        "update_manifest.jpg": "trusted",
        "legacy_ingredient_hash.jpg": "trusted",
    }
    if settings == "allowed":
        expected = {name: "invalid" if state == "invalid" else "valid" for name, state in expected.items()}
    assert verdicts == expected
    if settings != "allowed":
        assert inspect_file(FOREIGN / "CA_ct.jpg", technical=False, trust=trust).c2pa.trusted_by == CA_CT_ROOT
        boxhash = inspect_file(FOREIGN / "boxhash.jpg", technical=False, trust=trust).c2pa.trusted_by
        assert boxhash is not None and boxhash != CA_CT_ROOT  # another root of the same name: told by fingerprint


def test_inspect_names_the_anchor_among_several(
    tmp_path: Path, keys: dict[str, Path], other_keys: dict[str, Path]
) -> None:
    file = signed(tmp_path / "out", keys["chain"], keys["key"])
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(other_keys["ca"].read_bytes() + TEST_ROOTS.read_bytes() + keys["ca"].read_bytes())
    text = run_cli("inspect", file, "--trust", bundle).stdout
    assert f"signer trusted by anchor {_ca_subject(keys['ca'])}" in text


def test_a_trust_config_naming_claim_signing_is_given_to_the_sdk(tmp_path: Path) -> None:
    # emailProtection too: the SDK's own default list (used when signing) lacks c2pa-kp-claimSigning.
    ekus = [ObjectIdentifier(CLAIM_SIGNING_EKU), ExtendedKeyUsageOID.EMAIL_PROTECTION]
    claim = make_ca(tmp_path / "claim", "claim-signing", ekus)
    file = signed(tmp_path / "out", claim["chain"], claim["key"])
    config = tmp_path / "eku.cfg"
    config.write_text(f"# C2PA 2.2 §14.5.1\n{CLAIM_SIGNING_EKU}\n")
    trust = TrustSettings(anchors=claim["ca"].read_bytes(), config=f"{CLAIM_SIGNING_EKU}\n".encode())
    assert trust.sdk_settings()["trust"]["trust_config"] == f"{CLAIM_SIGNING_EKU}\n"
    trusted = run_cli("inspect", file, "--trust", claim["ca"], "--trust-config", config, "-f", "json")
    found = trusted.json()["files"][0]["c2pa"]
    assert (found["state"], _sdk_state(file, trust)) == ("trusted", "trusted"), trusted.stderr
    assert found["trusted_by"].startswith("anchor CN=claim-signing CA")


def test_trust_settings_file_is_the_sign_config_with_a_trust_table(
    tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "aidisclose.toml"
    shared.write_text(f'cert = "{keys["chain"]}"\nkey = "{keys["key"]}"\n\n[trust]\nanchors = "{keys["ca"]}"\n')
    out = tmp_path / "out"
    assert run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", out, "--sign", "--sign-config", shared).exit_code == 0
    assert "c2pa: trusted" in run_cli("inspect", out / JPEG.name, "--trust-settings", shared).stdout
    assert run_cli("check", out / JPEG.name, "-p", "c2pa-strict").exit_code == 1
    monkeypatch.setenv("AIDISCLOSE_TRUST_SETTINGS", str(shared))
    assert run_cli("check", out / JPEG.name, "-p", "c2pa-strict").exit_code == 0


@pytest.mark.parametrize(
    ("table", "reason"),
    [
        ('anchor = "ca.pem"', "[trust] has unknown key 'anchor'"),
        ("anchors = 3", "[trust] anchors must be a file path"),
        ("", "has no [trust] table"),
    ],
)
def test_bad_trust_settings_are_refused_in_one_line(tmp_path: Path, table: str, reason: str) -> None:
    settings = tmp_path / "trust.toml"
    settings.write_text(f"[trust]\n{table}\n" if table else 'cert = "x"\n')
    result = run_cli("inspect", JPEG, "--trust-settings", settings)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(settings) in line and reason in line


def test_a_trust_config_line_that_is_not_an_oid_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "eku.cfg"
    config.write_text("1.3.6.1.5.5.7.3.4\nemailProtection\n")
    result = run_cli("check", JPEG, "--trust-config", config)
    assert result.exit_code == 2 and "line 2 is not an OID" in result.stderr


def test_active_signer_trusted_and_ingredient_signer_not_says_exactly_that(
    tmp_path: Path, keys: dict[str, Path], other_keys: dict[str, Path]
) -> None:
    first = signed(tmp_path / "first", other_keys["chain"], other_keys["key"])
    second = signed(tmp_path / "second", keys["chain"], keys["key"], first, "asset_id=SHOT010_V004")
    text = run_cli("inspect", second, "--trust", keys["ca"]).stdout
    lines = [line.strip() for line in text.splitlines()]
    assert any(line.startswith("c2pa: trusted") for line in lines)
    assert any(line.startswith(f"signer trusted by anchor {_ca_subject(keys['ca'])} (SHA-256") for line in lines)
    (ingredient,) = [line for line in lines if line.startswith("ingredient ")]
    assert "valid (signer not trusted)" in ingredient
    assert sum(line.startswith("signer trusted by") for line in lines) == 1  # the active signer's, only
    found = inspect_file(second, technical=False, trust=TrustSettings(anchors=keys["ca"].read_bytes())).c2pa
    (parent,) = found.ingredients
    assert (found.state, parent.state, parent.trusted_by) == ("trusted", "valid", None)


UNTIMESTAMPED_NOTE = "note: signing without a timestamp authority: the signatures are valid only while"


def test_a_signature_time_stamped_by_a_real_tsa_shows_its_time_as_trusted(
    tmp_path: Path, keys: dict[str, Path], tsa: dict[str, Path | str]
) -> None:
    out = tmp_path / "out"
    stamped = run_cli(
        "stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", out, "--sign-cert", keys["chain"], "--sign-key", keys["key"],
        "--tsa-url", tsa["url"],
    )  # fmt: skip
    assert stamped.exit_code == 0 and UNTIMESTAMPED_NOTE not in stamped.stderr, stamped.stderr
    file = out / JPEG.name
    trusted = run_cli("inspect", file, "--trust", keys["ca"], "--trust-tsa", tsa["ca"], "-f", "json")
    found = trusted.json()["files"][0]["c2pa"]
    assert (found["state"], found["timestamp"]) == ("trusted", "trusted"), trusted.stderr
    assert found["timestamp_trusted_by"].startswith("anchor CN=test TSA CA (SHA-256 ")
    assert "timeStamp.trusted" in found["validation"]["success"]
    signed_at = dt.datetime.fromisoformat(found["signed_at"])  # the TSA's time: the SDK has no other
    assert abs(signed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    text = run_cli("inspect", file, "--trust", keys["ca"], "--trust-tsa", tsa["ca"]).stdout
    assert f"signed by aidisclose TEST signer (untrusted) at {found['signed_at']}" in text
    assert "time-stamp: trusted, by anchor CN=test TSA CA (SHA-256 " in text
    untrusted = run_cli("inspect", file, "--trust", keys["ca"], "-f", "json").json()["files"][0]["c2pa"]
    assert untrusted["timestamp"] == "validated (the time-stamp authority is not trusted)"
    assert untrusted["timestamp_trusted_by"] is None
    assert "timeStamp.untrusted" in untrusted["validation"]["informational"]
    assert "time-stamp: validated (the time-stamp authority is not trusted)" in run_cli("inspect", file).stdout


def test_signing_without_a_tsa_notes_once_a_run_that_the_signature_dies_with_the_certificate(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (folder / name).write_bytes(JPEG.read_bytes())
    result = run_cli(
        "stamp", folder, "-r", EXAMPLE_RECORD, "-o", tmp_path / "out", "--sign-cert", keys["chain"],
        "--sign-key", keys["key"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (note,) = [line for line in result.stderr.splitlines() if UNTIMESTAMPED_NOTE in line]
    expires = _leaf(keys["chain"]).not_valid_after_utc.isoformat(timespec="seconds")
    assert f"signing certificate is (until {expires}); give --tsa-url URL" in note
