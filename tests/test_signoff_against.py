"""`signoff verify --against DIR` on a folder changed after the sign-off: links out, FIFOs, added files."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from aidisclose.signoff import verify_signoff

from .conftest import run_cli

CONTENT = b"approved bytes"


def signoff(tmp_path: Path, files: list[str], not_approved: tuple[str, ...] = (), failed: tuple[str, ...] = ()) -> Path:
    """An unsigned sign-off document approving ``files`` (each holding CONTENT), written beside the folder."""
    sha = hashlib.sha256(CONTENT).hexdigest()
    document: dict[str, Any] = {
        "reviewer": "x", "signed_off_at": "2026-01-01T00:00:00Z", "policies": [],
        "summary": {"files": len(files), "passed": len(files), "failed": 0, "errors": 0, "skipped": 0},
        "files": [{"path": f, "given": ".", "sha256_before": sha, "sha256_after": sha, "verdict": "pass"}
                  for f in files],
        "not_approved": [{"path": f, "given": ".", "verdict": "skipped", "reason": "hidden"} for f in not_approved]
        + [{"path": f, "given": ".", "verdict": "fail", "reason": "fails the policy (x)"} for f in failed],
    }  # fmt: skip
    path = tmp_path / "signoff.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def states(document: Path, folder: Path) -> dict[str, str]:
    return {f.path: f.state for f in verify_signoff(document, None, folder).files}


def test_a_listed_file_that_became_a_symlink_out_of_the_folder_is_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    (folder / "reel1").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    (outside / "reel1").mkdir(parents=True)
    (outside / "shot.mov").write_bytes(CONTENT)  # the approved bytes, but not in the delivery
    (outside / "reel1" / "b.mov").write_bytes(CONTENT)
    (folder / "shot.mov").symlink_to(outside / "shot.mov")
    os.rmdir(folder / "reel1")
    (folder / "reel1").symlink_to(outside / "reel1", target_is_directory=True)
    document = signoff(tmp_path, ["shot.mov", "reel1/b.mov"])
    assert states(document, folder) == {"shot.mov": "outside", "reel1/b.mov": "outside"}


def test_a_symlink_that_stays_inside_the_folder_is_read(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    (folder / "a.mov").write_bytes(CONTENT)
    (folder / "b.mov").symlink_to("a.mov")
    assert states(signoff(tmp_path, ["a.mov", "b.mov"]), folder) == {"a.mov": "ok", "b.mov": "ok"}


def test_a_listed_file_replaced_by_a_fifo_or_a_folder_is_missing_without_waiting(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    os.mkfifo(folder / "a.mov")
    (folder / "b.mov").mkdir()
    (folder / "c.mov").symlink_to(folder / "a.mov")
    found = states(signoff(tmp_path, ["a.mov", "b.mov", "c.mov"]), folder)
    assert found == {"a.mov": "missing", "b.mov": "missing", "c.mov": "missing"}


def test_a_file_added_to_the_folder_after_the_signoff_fails_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    (folder / ".git").mkdir(parents=True)
    (folder / ".git" / "HEAD").write_bytes(b"hidden, listed as skipped with its folder")
    (folder / "a.mov").write_bytes(CONTENT)
    (folder / "reel9").mkdir()
    (folder / "reel9" / "added.mov").write_bytes(b"never reviewed")
    (folder / "link").symlink_to("/etc", target_is_directory=True)
    document = signoff(tmp_path, ["a.mov"], not_approved=(".git",))
    found = verify_signoff(document, None, folder)
    assert {f.path: f.state for f in found.files} == {"a.mov": "ok", "link": "unlisted", "reel9/added.mov": "unlisted"}
    assert not found.ok(allow_unsigned=True)
    result = run_cli("signoff", "verify", document, "--against", folder, "--allow-unsigned")
    assert result.exit_code == 1
    assert "UNLISTED reel9/added.mov: in" in result.stdout and "but not in the sign-off" in result.stdout


def test_the_document_and_its_signature_inside_the_folder_are_not_extra_files(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    (folder / "a.mov").write_bytes(CONTENT)
    document = signoff(tmp_path, ["a.mov"]).rename(folder / "signoff.json")
    (folder / "signoff.json.p7s").write_bytes(b"")
    assert run_cli("signoff", "verify", document, "--against", folder, "--allow-unsigned").exit_code == 1  # bad sig
    (folder / "signoff.json.p7s").unlink()
    assert states(document, folder) == {"a.mov": "ok"}


def test_a_file_the_signoff_did_not_approve_still_in_the_folder_fails(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    (folder / "a.mov").write_bytes(CONTENT)
    (folder / "rejected.mov").write_bytes(b"failed QC")
    (folder / ".DS_Store").write_bytes(b"skipped, not media")
    document = signoff(tmp_path, ["a.mov"], not_approved=(".DS_Store",), failed=("rejected.mov", "gone.mov"))
    found = verify_signoff(document, None, folder)
    assert {f.path: f.state for f in found.files} == {"a.mov": "ok", "rejected.mov": "not_approved"}
    assert not found.ok(allow_unsigned=True)
    (folder / "rejected.mov").unlink()
    assert verify_signoff(document, None, folder).ok(allow_unsigned=True)


def test_the_sidecar_of_a_file_not_approved_goes_with_it_and_one_added_to_an_approved_file_fails(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for name in ("a.mkv", "dup.mkv", "dup.mkv.xmp"):
        (folder / name).write_bytes(CONTENT)
    document = signoff(tmp_path, ["a.mkv"], not_approved=("dup.mkv",))  # skipped (named twice): it passes
    assert states(document, folder) == {"a.mkv": "ok"}
    (folder / "a.mkv.xmp").write_bytes(b"<x:xmpmeta/>")  # a sidecar the sign-off never saw changes a.mkv's record
    assert states(document, folder) == {"a.mkv": "ok", "a.mkv.xmp": "unlisted"}


def test_trust_anchors_too_large_to_be_any_are_refused_unread(tmp_path: Path) -> None:
    document = signoff(tmp_path, [])
    huge = tmp_path / "anchors.pem"
    with huge.open("wb") as out:
        out.truncate(1 << 30)  # sparse: 1 GB of nothing, never a list of certificates
    result = run_cli("signoff", "verify", document, "--trust", huge)
    assert result.exit_code == 2 and "too large to be trust anchors" in result.stderr


def test_a_sign_off_of_some_files_checks_only_those_with_listed_only_and_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for name in ("a.mov", "b.mov", "later.mov"):
        (folder / name).write_bytes(CONTENT)
    document = signoff(tmp_path, ["a.mov", "b.mov"], failed=("rejected.mov",))
    (folder / "rejected.mov").write_bytes(b"what QC turned down")
    whole = run_cli("signoff", "verify", document, "--against", folder, "--allow-unsigned")
    assert whole.exit_code == 1  # as a delivery, it holds a rejected file and one added since
    some = run_cli("signoff", "verify", document, "--against", folder, "--allow-unsigned", "--listed-only")
    assert some.exit_code == 0, some.stdout + some.stderr
    assert f"not checked: the other files in {folder} (--listed-only)" in some.stdout
    assert verify_signoff(document, None, folder, listed_only=True).to_json_dict(True)["other_files_checked"] is False
    (folder / "b.mov").write_bytes(b"changed")  # the listed files are still checked
    changed = run_cli("signoff", "verify", document, "--against", folder, "--allow-unsigned", "--listed-only")
    assert changed.exit_code == 1 and "b.mov" in changed.stderr
