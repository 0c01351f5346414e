"""QC sign-off end to end: `approve` a folder of real files, then verify the signed sign-off document.

The signature is checked twice, independently: by `openssl cms -verify` and by `aidisclose signoff verify`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aidisclose import load_record, stamp
from aidisclose.carriers.c2pa.identity import SigningIdentity
from aidisclose.policy import builtin_text
from aidisclose.vocab import ReviewStatus

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

REVIEWER = "R. Lead"
HOSTILE_NOTES = "<script>alert(1)</script> & fine"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_of(path: Path) -> dict[str, Any]:
    result = run_cli("inspect", path, "-f", "json")
    assert result.exit_code == 0, result.stderr
    record: dict[str, Any] = result.json()["files"][0]["record"]
    return record


def c2pa_of(path: Path) -> dict[str, Any]:
    c2pa: dict[str, Any] = run_cli("inspect", path, "-f", "json").json()["files"][0]["c2pa"]
    return c2pa


def flip_byte(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def openssl_verify(document: Path, ca: Path) -> subprocess.CompletedProcess[str]:
    signature = document.with_name(document.name + ".p7s")
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-content", str(document), "-inform", "DER", "-in", str(signature),
         "-CAfile", str(ca), "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def approved(
    tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path], identity: SigningIdentity
) -> dict[str, Any]:
    """A delivery stamped by artists (one file failing the policy, one signed), approved once with --sign."""
    record = load_record(EXAMPLE_RECORD)
    delivery = tmp_path_factory.mktemp("delivery")
    for name in ("images/photo.jpg", "audio/tone.wav", "audio/tone.flac", "video/clip.mkv"):
        stamp(FIXTURES / name, record, output_dir=delivery)
    stamp(FIXTURES / "images" / "plate.tif", record.model_copy(update={"ai_systems": []}), output_dir=delivery)
    stamp(FIXTURES / "images" / "still.webp", record, output_dir=delivery / "reel1", signing=identity)
    files = sorted(p for p in delivery.rglob("*") if p.is_file())
    before = {p: (p.read_bytes(), {} if p.suffix == ".xmp" else record_of(p)) for p in files}
    earlier_manifest = c2pa_of(delivery / "reel1" / "still.webp")["active_manifest"]
    out = tmp_path_factory.mktemp("signoff")
    document = out / "signoff.json"
    result = run_cli(
        "approve", delivery, "--reviewer", REVIEWER, "--role", "QC lead", "--notes", HOSTILE_NOTES,
        "--signoff", document, "--report", out / "reports", "--sign", "--sign-cert", keys["chain"],
        "--sign-key", keys["key"], "--jobs", "1",
    )  # fmt: skip
    return {
        "delivery": delivery,
        "before": before,
        "document": document,
        "result": result,
        "earlier_manifest": earlier_manifest,
        "html": out / "reports" / "signoff.html",
    }


def test_approve_exits_as_check_does_and_lists_the_failing_file(approved: dict[str, Any]) -> None:
    result = approved["result"]
    assert result.exit_code == 1, result.stderr  # one policy failure, as `check` would exit
    assert "not approved" in result.stdout and "plate.tif" in result.stdout
    assert "attribution.ai-systems-named" in result.stdout
    assert result.stdout.count("approved ") - result.stdout.count("not approved") == 5


def test_a_failing_file_is_left_untouched_byte_for_byte(approved: dict[str, Any]) -> None:
    plate = approved["delivery"] / "plate.tif"
    assert plate.read_bytes() == approved["before"][plate][0]
    assert "qc" not in record_of(plate) or record_of(plate)["qc"] == approved["before"][plate][1]["qc"]


def test_approved_files_carry_qc_and_the_review_and_keep_every_other_value(approved: dict[str, Any]) -> None:
    date = json.loads(approved["document"].read_text(encoding="utf-8"))["signed_off_at"]
    for path, (data, record_before) in approved["before"].items():
        if path.name in ("plate.tif", "clip.mkv.xmp"):
            continue
        after = record_of(path)
        # Matroska is never written: its XMP sidecar holds the record
        written = path.with_name("clip.mkv.xmp") if path.name == "clip.mkv" else path
        assert written.read_bytes() != approved["before"][written][0]
        assert (path.read_bytes() == data) is (path.name == "clip.mkv")
        assert after["qc"] == {"by": REVIEWER, "role": "QC lead", "date": date}
        # genai-production reads human_review, so the approval is the approved review it asks for
        assert after["human_review"] == {
            "status": "approved", "reviewer": REVIEWER, "role": "QC lead", "date": date, "notes": HOSTILE_NOTES,
        }  # fmt: skip
        untouched = {k: v for k, v in record_before.items() if k not in ("qc", "human_review")}
        assert {k: v for k, v in after.items() if k not in ("qc", "human_review")} == untouched


def test_the_signoff_document_has_each_files_digests_verdict_and_rules(approved: dict[str, Any]) -> None:
    document = json.loads(approved["document"].read_text(encoding="utf-8"))
    assert (document["reviewer"], document["role"], document["notes"]) == (REVIEWER, "QC lead", HOSTILE_NOTES)
    assert document["tool"] == "aidisclose" and document["tool_version"]
    [policy] = document["policies"]
    assert policy["name"] == "genai-production"
    assert policy["sha256"] == hashlib.sha256(builtin_text("genai-production").encode()).hexdigest()
    delivery = approved["delivery"]
    listed = {f["path"]: f for f in document["files"]}
    assert sorted(listed) == ["clip.mkv", "photo.jpg", "reel1/still.webp", "tone.flac", "tone.wav"]
    for relative, entry in listed.items():
        assert entry["sha256_before"] == hashlib.sha256(approved["before"][delivery / relative][0]).hexdigest()
        assert entry["sha256_after"] == sha256(delivery / relative)
        assert entry["verdict"] == "pass"
        assert {r["rule"] for r in entry["results"]} >= {"oversight.final-review-approved"}
    assert listed["reel1/still.webp"]["c2pa_resigned"] is True
    assert listed["clip.mkv"]["sidecars"] == [{"path": "clip.mkv.xmp", "sha256": sha256(delivery / "clip.mkv.xmp")}]
    [refused] = document["not_approved"]
    assert refused["path"] == "plate.tif" and refused["verdict"] == "fail"
    assert "attribution.ai-systems-named" in refused["reason"]
    assert refused["sha256"] == sha256(delivery / "plate.tif")


def test_the_signoff_document_matches_its_published_schema(approved: dict[str, Any]) -> None:
    schema = run_cli("schema", "--signoff").json()
    jsonschema.validate(json.loads(approved["document"].read_text(encoding="utf-8")), schema)


def test_openssl_verifies_the_signature_and_refuses_one_changed_byte(
    approved: dict[str, Any], keys: dict[str, Path], tmp_path: Path
) -> None:
    done = openssl_verify(approved["document"], keys["ca"])
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr
    copy = tmp_path / "signoff.json"
    shutil.copy(approved["document"], copy)
    shutil.copy(approved["document"].with_name("signoff.json.p7s"), tmp_path / "signoff.json.p7s")
    flip_byte(copy, 200)
    assert openssl_verify(copy, keys["ca"]).returncode != 0


def test_signoff_verify_accepts_the_signed_document_and_its_files(
    approved: dict[str, Any], keys: dict[str, Path]
) -> None:
    result = run_cli(
        "signoff", "verify", approved["document"], "--trust", keys["ca"], "--against", approved["delivery"]
    )
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "trusted" in result.stdout and "aidisclose TEST signer" in result.stdout
    report = run_cli(
        "signoff",
        "verify",
        approved["document"],
        "--trust",
        keys["ca"],
        "--against",
        approved["delivery"],
        "-f",
        "json",
    ).json()
    assert report["ok"] is True and report["signature"]["state"] == "trusted"
    assert {f["path"]: f["state"] for f in report["files"]} == dict.fromkeys(
        ["clip.mkv", "clip.mkv.xmp", "photo.jpg", "tone.wav", "tone.flac", "reel1/still.webp"], "ok"
    )


def test_signoff_verify_fails_without_trust_anchors(approved: dict[str, Any]) -> None:
    result = run_cli("signoff", "verify", approved["document"])
    assert result.exit_code == 1
    assert "no trust anchors" in result.stdout


def test_one_changed_byte_of_the_document_fails_verification(
    approved: dict[str, Any], keys: dict[str, Path], tmp_path: Path
) -> None:
    copy = tmp_path / "signoff.json"
    shutil.copy(approved["document"], copy)
    shutil.copy(approved["document"].with_name("signoff.json.p7s"), tmp_path / "signoff.json.p7s")
    text = copy.read_text(encoding="utf-8")
    offset = text.index('"sha256_after": "') + len('"sha256_after": "')  # still valid JSON: only the signature tells
    flip_byte(copy, offset)
    result = run_cli("signoff", "verify", copy, "--trust", keys["ca"])
    assert result.exit_code == 1
    assert "the document changed after it was signed" in result.stdout
    assert "signoff.json" in result.stderr


def test_one_changed_byte_of_a_listed_file_fails_against_naming_it(
    approved: dict[str, Any], keys: dict[str, Path], tmp_path: Path
) -> None:
    delivery = tmp_path / "delivery"
    shutil.copytree(approved["delivery"], delivery)
    wav = delivery / "tone.wav"
    flip_byte(wav, wav.stat().st_size - 3)  # one sample byte
    result = run_cli("signoff", "verify", approved["document"], "--trust", keys["ca"], "--against", delivery)
    assert result.exit_code == 1
    assert "CHANGED tone.wav: changed since the sign-off" in result.stdout
    assert "tone.wav" in result.stderr and "photo.jpg" not in result.stderr
    (delivery / "clip.mkv.xmp").write_text("<x/>", encoding="utf-8")
    sidecar = run_cli("signoff", "verify", approved["document"], "--trust", keys["ca"], "--against", delivery)
    assert sidecar.exit_code == 1 and "CHANGED clip.mkv.xmp" in sidecar.stdout
    (delivery / "photo.jpg").unlink()
    missing = run_cli("signoff", "verify", approved["document"], "--trust", keys["ca"], "--against", delivery)
    assert missing.exit_code == 1 and "MISSING photo.jpg" in missing.stdout


def test_a_signed_file_is_signed_again_with_its_earlier_manifest_as_ingredient(approved: dict[str, Any]) -> None:
    c2pa = c2pa_of(approved["delivery"] / "reel1" / "still.webp")
    assert c2pa["state"] == "valid", c2pa
    assert c2pa["active_manifest"] != approved["earlier_manifest"]
    [parent] = c2pa["ingredients"]
    assert parent["relationship"] == "parentOf"
    assert parent["active_manifest"] == approved["earlier_manifest"]
    assert parent["state"] == "valid"
    assert c2pa["record"]["qc"]["role"] == "QC lead"


def test_the_html_report_shows_the_signoff_escaped(approved: dict[str, Any]) -> None:
    page = approved["html"].read_text(encoding="utf-8")
    assert "<section class='signoff done' id='signoff'>" in page
    assert '<a href="../signoff.json">sign-off document</a>' in page
    assert REVIEWER in page and "QC lead" in page
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; fine" in page
    assert page.count("data-approved='yes'") == 5 and page.count("data-approved='no'") == 1
    document = json.loads(approved["document"].read_text(encoding="utf-8"))
    assert all(f["sha256_after"] in page for f in document["files"])


def test_check_shows_a_signoff_in_its_html_report(
    approved: dict[str, Any], keys: dict[str, Path], tmp_path: Path
) -> None:
    page = tmp_path / "qc.html"
    result = run_cli(
        "check",
        approved["delivery"],
        "-f",
        "html",
        "-o",
        page,
        "--signoff",
        approved["document"],
        "--trust",
        keys["ca"],
    )
    assert result.exit_code == 1  # plate.tif still fails
    html = page.read_text(encoding="utf-8")
    assert "trusted: signed by" in html and REVIEWER in html
    refused = run_cli("check", approved["delivery"], "-f", "json", "--signoff", approved["document"])
    assert refused.exit_code == 2 and "HTML report only" in refused.stderr


def test_an_unsigned_signoff_needs_allow_unsigned_and_credentials_need_sign(
    identity: SigningIdentity, tmp_path: Path
) -> None:
    record = load_record(EXAMPLE_RECORD)
    delivery = tmp_path / "delivery"
    stamp(FIXTURES / "images" / "photo.jpg", record, output_dir=delivery)
    stamp(FIXTURES / "images" / "overlay.png", record, output_dir=delivery, signing=identity)
    signed = (delivery / "overlay.png").read_bytes()
    document = tmp_path / "s.json"
    result = run_cli("approve", delivery, "--reviewer", REVIEWER, "--signoff", document, "-f", "json")
    assert result.exit_code == 2  # the signed file cannot be written without signing it again
    assert (delivery / "overlay.png").read_bytes() == signed
    assert "overlay.png" in result.stderr and "--sign" in result.stderr
    out = result.json()
    assert out["signature"] is None and [f["path"] for f in out["document"]["files"]] == ["photo.jpg"]
    [refused] = out["document"]["not_approved"]
    assert refused["verdict"] == "error" and refused["sha256"] == hashlib.sha256(signed).hexdigest()
    assert not document.with_name("s.json.p7s").exists()
    unsigned = run_cli("signoff", "verify", document, "--against", delivery)
    assert unsigned.exit_code == 1 and "unsigned" in unsigned.stdout
    allowed = run_cli("signoff", "verify", document, "--against", delivery, "--allow-unsigned")
    assert allowed.exit_code == 0, allowed.stdout


def test_signoff_verify_refuses_what_is_not_a_signoff_document(tmp_path: Path) -> None:
    assert run_cli("signoff", "verify", tmp_path / "missing.json").exit_code == 2
    other = tmp_path / "other.json"
    other.write_text('{"files": []}', encoding="utf-8")
    result = run_cli("signoff", "verify", other, "--allow-unsigned")
    assert result.exit_code == 2 and "not an aidisclose sign-off document" in result.stderr
    garbage = tmp_path / "g.json"
    garbage.write_text("{}", encoding="utf-8")
    garbage.with_name("g.json.p7s").write_bytes(b"\x30\x03\x02\x01\x00")
    broken = run_cli("signoff", "verify", garbage)
    assert broken.exit_code == 1 and "not a CMS" in broken.stdout


def test_a_path_leading_outside_the_folder_is_not_followed(tmp_path: Path) -> None:
    from aidisclose.signoff import verify_signoff

    document = {
        "reviewer": "x", "signed_off_at": "2026-01-01T00:00:00Z", "policies": [],
        "summary": {"files": 1, "passed": 1, "failed": 0, "errors": 0, "skipped": 0}, "not_approved": [],
        "files": [{"path": "../secret", "given": ".", "sha256_before": "0", "sha256_after": "0", "verdict": "pass"}],
    }  # fmt: skip
    path = tmp_path / "d.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "in").mkdir()
    result = verify_signoff(path, None, tmp_path / "in")
    assert [f.state for f in result.files] == ["outside"]


def test_a_policy_that_reads_no_review_leaves_the_human_review_as_it_was(tmp_path: Path) -> None:
    record = load_record(EXAMPLE_RECORD)
    photo = stamp(FIXTURES / "images" / "photo.jpg", record, output_dir=tmp_path / "d").destination
    review = record_of(photo)["human_review"]
    result = run_cli("approve", photo, "-p", "ca-sb942", "--reviewer", REVIEWER, "--signoff", tmp_path / "s.json")
    assert result.exit_code == 0, result.stderr
    after = record_of(photo)
    assert after["human_review"] == review and after["qc"]["by"] == REVIEWER


def test_a_file_whose_review_rejected_it_is_not_approved(tmp_path: Path) -> None:
    record = load_record(EXAMPLE_RECORD)
    assert record.human_review is not None
    review = record.human_review.model_copy(update={"status": ReviewStatus.rejected})
    rejected = record.model_copy(update={"human_review": review})
    photo = stamp(FIXTURES / "images" / "photo.jpg", rejected, output_dir=tmp_path / "d").destination
    before = photo.read_bytes()
    result = run_cli("approve", photo, "--reviewer", REVIEWER, "--signoff", tmp_path / "s.json")
    assert result.exit_code == 1
    assert "rejected it" in result.stdout and photo.read_bytes() == before
    document = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert document["files"] == [] and document["not_approved"][0]["path"] == "photo.jpg"


def test_hostile_and_non_utf8_file_names_are_data_in_every_output(tmp_path: Path) -> None:
    import os

    record = load_record(EXAMPLE_RECORD)
    delivery = tmp_path / "delivery"
    stamped = stamp(FIXTURES / "images" / "photo.jpg", record, output_dir=tmp_path / "src").destination
    delivery.mkdir()
    hostile = delivery / "a<img src=x onerror=alert(1)>\x1b[31m.jpg"
    shutil.copy(stamped, hostile)
    raw = os.fsdecode(os.fsencode(str(delivery)) + b"/b\xff.jpg")
    shutil.copy(stamped, raw)
    document = tmp_path / "s.json"
    result = run_cli("approve", delivery, "--reviewer", REVIEWER, "--signoff", document, "--report", tmp_path / "r")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr and "\\x1b" in result.stdout
    data = json.loads(document.read_text(encoding="utf-8"))
    by_path = {f["path"]: f for f in data["files"]}
    assert by_path["b\\udcff.jpg"]["path_bytes_b64"] == "Yv8uanBn"  # b"b\xff.jpg"
    page = (tmp_path / "r" / "s.html").read_text(encoding="utf-8")
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    verified = run_cli("signoff", "verify", document, "--against", delivery, "--allow-unsigned", "-f", "json")
    assert verified.exit_code == 0, verified.stdout
    assert [f["state"] for f in verified.json()["files"]] == ["ok", "ok"]
    flip_byte(Path(raw), Path(raw).stat().st_size - 4)
    changed = run_cli("signoff", "verify", document, "--against", delivery, "--allow-unsigned")
    assert changed.exit_code == 1 and "CHANGED b\\udcff.jpg" in changed.stdout


def test_a_signature_by_a_certificate_the_anchors_do_not_vouch_for_fails(
    approved: dict[str, Any], keys: dict[str, Path], tmp_path: Path
) -> None:
    from aidisclose.carriers.c2pa.identity import make_test_ca
    from aidisclose.signoff import sign_document

    other = make_test_ca(tmp_path / "other")
    copy = tmp_path / "signoff.json"
    shutil.copy(approved["document"], copy)
    forged = sign_document(copy.read_bytes(), SigningIdentity.from_files(other["chain"], other["key"]))
    (tmp_path / "signoff.json.p7s").write_bytes(forged)
    result = run_cli("signoff", "verify", copy, "--trust", keys["ca"])
    assert result.exit_code == 1
    assert "the signer is not trusted" in result.stdout
    assert run_cli("signoff", "verify", copy, "--trust", other["ca"]).exit_code == 0
    (tmp_path / "signoff.json.p7s").write_bytes(sign_document(b"another document", SigningIdentity.from_files(
        other["chain"], other["key"])))  # fmt: skip
    moved = run_cli("signoff", "verify", copy, "--trust", other["ca"])
    assert moved.exit_code == 1 and "the document changed after it was signed" in moved.stdout


def test_the_html_report_shows_a_file_left_as_it_was_with_its_own_record(approved: dict[str, Any]) -> None:
    page = approved["html"].read_text(encoding="utf-8")
    card = page[page.index("<section class=\"file\" id=") :]
    card = card[: card.index("</section>")]
    assert "plate.tif" in card and "attribution.ai-systems-named" in card
    assert REVIEWER not in card  # the review was not written into it, so its card does not show one


def test_a_key_that_cannot_sign_the_signoff_is_refused_before_any_file_is_written(
    keys: dict[str, Path], tmp_path: Path
) -> None:
    from aidisclose.carriers.c2pa.identity import make_test_ca

    other = make_test_ca(tmp_path / "other")
    photo = stamp(FIXTURES / "images" / "photo.jpg", load_record(EXAMPLE_RECORD), output_dir=tmp_path / "d").destination
    before = photo.read_bytes()
    result = run_cli(
        "approve", photo, "--reviewer", REVIEWER, "--signoff", tmp_path / "s.json",
        "--sign", "--sign-cert", keys["chain"], "--sign-key", other["key"],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "is not the key of the first certificate" in result.stderr
    assert photo.read_bytes() == before and not (tmp_path / "s.json").exists()


def test_the_signoff_in_the_html_report_reads_and_links_in_chromium(approved: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    from .test_reports import chromium_or_fail

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_fail(), args=["--no-sandbox", "--disable-gpu"])
        try:
            view = browser.new_page(viewport={"width": 1280, "height": 900})
            view.goto(approved["html"].as_uri(), wait_until="load")
            facts = view.evaluate(
                """() => {
                const box = document.getElementById('signoff');
                const facts = Object.fromEntries([...box.querySelectorAll('dt')].map(
                    dt => [dt.textContent, dt.nextElementSibling.textContent]));
                return {facts, scripts: document.scripts.length, visible: box.getBoundingClientRect().height > 100,
                        approved: box.querySelectorAll("tr[data-approved='yes']").length};
            }"""
            )
            assert facts["scripts"] == 0 and facts["visible"] and facts["approved"] == 5
            assert facts["facts"]["Reviewer"] == REVIEWER and facts["facts"]["Notes"] == HOSTILE_NOTES
            assert "aidisclose TEST signer" in facts["facts"]["Signature"]
            view.click("#signoff a")
            view.wait_for_load_state()
            assert view.url == approved["document"].as_uri()
        finally:
            browser.close()


def test_a_signature_file_too_large_to_be_one_is_refused_unread(approved: dict[str, Any], tmp_path: Path) -> None:
    copy = tmp_path / "signoff.json"
    shutil.copy(approved["document"], copy)
    (tmp_path / "signoff.json.p7s").symlink_to("/dev/zero")
    result = run_cli("signoff", "verify", copy)
    assert result.exit_code == 2 and "too large to be a signature" in result.stderr


def test_a_file_named_twice_is_approved_once_and_its_other_name_listed(tmp_path: Path) -> None:
    photo = stamp(FIXTURES / "images" / "photo.jpg", load_record(EXAMPLE_RECORD), output_dir=tmp_path / "d").destination
    result = run_cli("approve", photo, tmp_path / "d", "--reviewer", REVIEWER, "--signoff", tmp_path / "s.json")
    assert result.exit_code == 0, result.stderr
    document = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert [f["path"] for f in document["files"]] == ["photo.jpg"]
    [again] = document["not_approved"]
    assert again["verdict"] == "skipped" and again["reason"].endswith("named more than once; approved once")


def test_an_unreadable_file_is_left_untouched_listed_and_exits_2(tmp_path: Path) -> None:
    delivery = tmp_path / "d"
    stamp(FIXTURES / "images" / "photo.jpg", load_record(EXAMPLE_RECORD), output_dir=delivery)
    broken = delivery / "shot020.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\xff" * 40)  # a box that runs past the end
    before = broken.read_bytes()
    result = run_cli("approve", delivery, "--reviewer", REVIEWER, "--signoff", tmp_path / "s.json")
    assert result.exit_code == 2
    assert "shot020.mp4" in result.stderr and broken.read_bytes() == before
    document = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert [f["path"] for f in document["files"]] == ["photo.jpg"]
    [unread] = document["not_approved"]
    assert (unread["path"], unread["verdict"]) == ("shot020.mp4", "error")
