"""The command line: where output goes, exit codes, help, the installed script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .conftest import EXAMPLE_RECORD, IMAGE_FIXTURES, run_cli, snapshot

JPEG = next(f for f in IMAGE_FIXTURES if f.suffix == ".jpg")


def test_stamp_requires_output_or_in_place() -> None:
    for args in ([], ["--in-place", "--output", "x"]):
        result = run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, *args)
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1


def test_output_never_silently_overwrites(tmp_path: Path) -> None:
    existing = tmp_path / JPEG.name
    existing.write_bytes(b"someone's file")
    result = run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", tmp_path)
    assert result.exit_code == 2 and "--overwrite" in result.stderr
    assert existing.read_bytes() == b"someone's file"
    assert run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", tmp_path, "--overwrite").exit_code == 0
    assert existing.read_bytes().startswith(b"\xff\xd8")


def test_output_into_own_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    before = snapshot(target)
    result = run_cli("stamp", target, "-r", EXAMPLE_RECORD, "-o", tmp_path, "--overwrite")
    assert result.exit_code == 2 and "--in-place" in result.stderr
    assert snapshot(target) == before


def test_stamp_json_report(tmp_path: Path) -> None:
    result = run_cli("stamp", *IMAGE_FIXTURES, "-r", EXAMPLE_RECORD, "-o", tmp_path, "-f", "json")
    assert result.exit_code == 0
    report = result.json()
    assert report["errors"] == []
    assert sorted(s["format"] for s in report["stamped"]) == ["jpeg", "png", "tiff", "webp"]
    assert all(s["size_after"] > s["size_before"] for s in report["stamped"])


def test_installed_script_help_and_version() -> None:
    exe = Path(sys.executable).parent / "aidisclose"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    for command in ("stamp", "inspect", "schema", "init"):
        assert command in out
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("aidisclose ")


def test_unknown_option_is_usage_error() -> None:
    assert run_cli("stamp", JPEG, "--bogus").exit_code == 2
