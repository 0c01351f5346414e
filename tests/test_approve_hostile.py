"""`approve` where the check after writing does not pass: the document never lists such a file as approved."""

from __future__ import annotations

import json
from pathlib import Path

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
