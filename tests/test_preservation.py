"""Stamping never changes the pixels and keeps metadata the record does not own."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from aidisclose import load_record, stamp

from .conftest import EXAMPLE_RECORD, IMAGE_FIXTURES, exiftool_json, run_cli

JPEG = next(f for f in IMAGE_FIXTURES if f.suffix == ".jpg")


def decoded_pixels(path: Path) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(path) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


@pytest.mark.parametrize("fixture", IMAGE_FIXTURES, ids=lambda p: p.suffix[1:])
def test_stamp_never_changes_pixels(fixture: Path, tmp_path: Path) -> None:
    assert run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path).exit_code == 0
    stamped = tmp_path / fixture.name
    assert stamped.read_bytes() != fixture.read_bytes()  # metadata was added...
    assert decoded_pixels(stamped) == decoded_pixels(fixture)  # ...and the picture is the same


def test_camera_exif_and_unrelated_xmp_survive(tmp_path: Path) -> None:
    before = exiftool_json(JPEG, "-EXIF:all", "-XMP:CreatorTool", "-XMP:Description")
    assert before["Make"] == "FixtureCam"  # the fixture really has them
    assert run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", tmp_path).exit_code == 0
    after = exiftool_json(tmp_path / JPEG.name, "-EXIF:all", "-XMP:CreatorTool", "-XMP:Description")
    for tag in ("Make", "Model", "DateTimeOriginal", "Software", "CreatorTool", "Description"):
        assert after[tag] == before[tag], tag


def test_restamp_replaces_values_and_clears_our_own_fields(tmp_path: Path) -> None:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    record = load_record(EXAMPLE_RECORD)
    stamp(target, record, in_place=True)
    smaller = record.model_copy(update={"approval_reference": None, "ai_credit_line": "New credit"})
    stamp(target, smaller, in_place=True)
    data = exiftool_json(target, "-XMP:all")
    assert "ApprovalReference" not in data  # our namespace: a field left out is removed
    assert data["Credit"] == "New credit"  # replaced, not duplicated
    assert data["AISystemUsed"] == "ExampleGen; CrowdClone"


def test_stamp_never_strips_standard_marks_it_does_not_replace(tmp_path: Path) -> None:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    stamp(target, load_record(EXAMPLE_RECORD), in_place=True)
    # A record that says nothing of copyright or creators must not erase them.
    stamp(target, load_record(EXAMPLE_RECORD).model_copy(update={"copyright": None, "creators": []}), in_place=True)
    data = exiftool_json(target, "-XMP:Rights", "-XMP:Creator")
    assert data["Rights"] == "(c) 2026 Example Studio"
    assert data["Creator"] == ["A. Artist", "B. Supervisor"]


def test_stamp_keeps_file_mode(tmp_path: Path) -> None:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    target.chmod(0o640)
    stamp(target, load_record(EXAMPLE_RECORD), in_place=True)
    assert target.stat().st_mode & 0o777 == 0o640
    assert not list(tmp_path.glob(".*aidisclose-tmp"))
