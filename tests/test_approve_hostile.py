"""`approve` where the check after writing does not pass: the document never lists such a file as approved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from aidisclose import load_record, stamp
from aidisclose.carriers.c2pa.identity import SigningIdentity, make_test_ca

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli


def test_a_file_that_fails_the_check_after_approval_is_not_listed_as_approved(tmp_path: Path) -> None:
    # The artist's manifest is trusted; QC signs again with a certificate the same trust list does not hold,
    # so under c2pa-strict the file passes as it stands and fails once approved.
    artist, qc = make_test_ca(tmp_path / "artist"), make_test_ca(tmp_path / "qc")
    signed = SigningIdentity.from_files(artist["chain"], artist["key"])
    still = stamp(FIXTURES / "images" / "still.webp", load_record(EXAMPLE_RECORD), output_dir=tmp_path / "d",
                  signing=signed).destination  # fmt: skip
    assert run_cli("check", still, "-p", "c2pa-strict", "--trust", artist["ca"]).exit_code == 0
    document = tmp_path / "s.json"
    result = run_cli(
        "approve", still, "-p", "c2pa-strict", "--trust", artist["ca"], "--reviewer", "R. Lead",
        "--signoff", document, "--sign", "--sign-cert", qc["chain"], "--sign-key", qc["key"], "-f", "json",
    )  # fmt: skip
    assert result.exit_code == 1, result.stdout + result.stderr
    written = json.loads(document.read_text(encoding="utf-8"))
    assert written["files"] == []
    [refused] = written["not_approved"]
    assert refused["path"] == "still.webp" and refused["verdict"] == "fail"
    assert "fails the check after approval" in refused["reason"]
    verified = run_cli("signoff", "verify", document, "--trust", qc["ca"], "--against", tmp_path / "d")
    assert "ok still.webp" not in verified.stdout


def test_a_file_written_while_it_is_being_approved_is_left_as_that_writer_left_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aidisclose.approve as approve_module
    from aidisclose.approve import ApproveJob, approve_item
    from aidisclose.batch import walk
    from aidisclose.policy import load_policy

    photo = stamp(FIXTURES / "images" / "photo.jpg", load_record(EXAMPLE_RECORD), output_dir=tmp_path / "d").destination
    rebuild = approve_module.rebuild_record

    def another_writer_meanwhile(stored: Any) -> Any:  # an artist's tool saves the file after it was judged
        with photo.open("ab") as out:
            out.write(b"appended after the check")
        return rebuild(stored)

    monkeypatch.setattr(approve_module, "rebuild_record", another_writer_meanwhile)
    written = photo.read_bytes() + b"appended after the check"
    qc = {"by": "R. Lead", "date": "2026-01-01T00:00:00Z"}
    [item] = walk([photo])
    approval = approve_item(item, ApproveJob([load_policy("genai-production")], qc, None))
    assert not approval.approved and "changed while it was being approved" in (approval.reason or "")
    assert photo.read_bytes() == written  # not stamped over bytes nobody judged


def test_a_reviewer_key_signoff_verify_would_refuse_is_refused_before_any_file_is_written(tmp_path: Path) -> None:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "weak reviewer")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=9))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem, pkcs8 = serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8
    (tmp_path / "key.pem").write_bytes(key.private_bytes(pem, pkcs8, serialization.NoEncryption()))
    photo = stamp(FIXTURES / "images" / "photo.jpg", load_record(EXAMPLE_RECORD), output_dir=tmp_path / "d").destination
    before = photo.read_bytes()
    result = run_cli(
        "approve", photo, "--reviewer", "R. Lead", "--signoff", tmp_path / "s.json",
        "--sign", "--sign-cert", tmp_path / "cert.pem", "--sign-key", tmp_path / "key.pem",
    )  # fmt: skip
    assert result.exit_code == 2 and "1024 bits" in result.stderr
    assert photo.read_bytes() == before and not (tmp_path / "s.json").exists()
