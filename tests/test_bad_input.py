"""Bad input gets exit 2, one line naming the file, and the input left byte-for-byte unchanged."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import EXAMPLE_RECORD, IMAGE_FIXTURES, run_cli, snapshot

JPEG = next(f for f in IMAGE_FIXTURES if f.suffix == ".jpg")


def zero_bytes(folder: Path) -> Path:
    path = folder / "empty.jpg"
    path.write_bytes(b"")
    return path


def truncated_jpeg(folder: Path) -> Path:
    path = folder / "truncated.jpg"
    data = JPEG.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def text_named_jpg(folder: Path) -> Path:
    path = folder / "notes.jpg"
    path.write_text("these are not pixels\n")
    return path


def garbage_after_png_signature(folder: Path) -> Path:
    path = folder / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    return path


@pytest.mark.parametrize(
    "make", [zero_bytes, truncated_jpeg, text_named_jpg, garbage_after_png_signature], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("mode", [["--in-place"], ["--output", "out"]], ids=["in-place", "output"])
def test_bad_file_exit_2_one_line_unchanged(make: Callable[[Path], Path], mode: list[str], tmp_path: Path) -> None:
    bad = make(tmp_path)
    before = snapshot(bad)
    args = [a if a != "out" else str(tmp_path / "out") for a in mode]
    result = run_cli("stamp", bad, "-r", EXAMPLE_RECORD, *args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(bad) in lines[0]
    assert snapshot(bad) == before
    assert not (tmp_path / "out" / bad.name).exists()
    assert not list(tmp_path.rglob("*aidisclose-tmp"))


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jpg"
    result = run_cli("stamp", missing, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 2
    assert result.stderr.strip() == f"aidisclose: error: {missing}: no such file"


def test_read_only_file_in_place(tmp_path: Path) -> None:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    target.chmod(0o444)
    before = snapshot(target)
    result = run_cli("stamp", target, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(target) in line and "read-only" in line
    assert snapshot(target) == before


def test_invalid_record_field_names_field_and_line(tmp_path: Path) -> None:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    before = snapshot(target)
    record = tmp_path / "bad.toml"
    record.write_text('ai_used = true\n\n[human_review]\nstatus = "approvd"\n')
    result = run_cli("stamp", target, "-r", record, "--in-place")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(record) in line and "human_review.status" in line and "line 4" in line
    assert snapshot(target) == before


def test_one_bad_file_does_not_stop_the_batch(tmp_path: Path) -> None:
    bad = zero_bytes(tmp_path)
    result = run_cli("stamp", bad, JPEG, "-r", EXAMPLE_RECORD, "-o", tmp_path / "out", "--format", "json")
    assert result.exit_code == 2
    report = result.json()
    assert [Path(s["source"]).name for s in report["stamped"]] == [JPEG.name]
    assert [e["path"] for e in report["errors"]] == [str(bad)]
    assert (tmp_path / "out" / JPEG.name).exists()


def test_inspect_unreadable_file_exit_2(tmp_path: Path) -> None:
    bad = text_named_jpg(tmp_path)
    result = run_cli("inspect", bad, JPEG, "--format", "json")
    assert result.exit_code == 2
    assert len(result.json()["files"]) == 1
    assert result.json()["errors"][0]["path"] == str(bad)


def test_markup_in_names_and_values_is_printed_as_text(tmp_path: Path) -> None:
    """A path or value holding rich markup (even an unmatched closing tag) is data, never a crash or a style."""
    from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

    folder = tmp_path / "["
    folder.mkdir()
    target = folder / "b].jpg"  # its path reads "[/b].jpg": a closing tag that matches nothing
    out = tmp_path / "out"
    stamped = run_cli(
        "stamp",
        FIXTURES / "images" / "photo.jpg",
        "-r",
        EXAMPLE_RECORD,
        "--set",
        "ai_credit_line=[/red] [bold]x",
        "-o",
        out,
    )
    assert stamped.exit_code == 0, stamped.stderr
    (out / "photo.jpg").rename(target)
    shown = run_cli("inspect", target)
    assert shown.exit_code == 0
    assert str(target) in shown.stdout and "[/red] [bold]x" in shown.stdout
    checked = run_cli("check", target)
    assert str(target) in checked.stdout
