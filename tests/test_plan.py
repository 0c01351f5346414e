"""The stamp plan: destinations are decided, and clashes refused, before the first write."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

PHOTO = FIXTURES / "images" / "photo.jpg"


def test_two_inputs_with_one_output_name_are_both_refused_and_nothing_is_written(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copyfile(PHOTO, tmp_path / folder / "x.jpg")
    out = tmp_path / "out"
    found = run_cli("stamp", tmp_path / "a" / "x.jpg", tmp_path / "b" / "x.jpg", "-r", EXAMPLE_RECORD, "-o", out)
    assert found.exit_code == 2
    refusals = [line for line in found.stderr.splitlines() if "would all be written to" in line]
    assert len(refusals) == 2
    assert not out.exists() or list(out.iterdir()) == []


def test_a_file_named_twice_is_stamped_once(tmp_path: Path) -> None:
    source = tmp_path / "x.jpg"
    shutil.copyfile(PHOTO, source)
    found = run_cli("stamp", source, source, "-r", EXAMPLE_RECORD, "-o", tmp_path / "out")
    assert found.exit_code == 0
    lines = found.stdout.splitlines()
    assert sum(line.startswith("stamped ") for line in lines) == 1
    assert f"skipped {source}: named more than once; stamped once" in lines  # every name given is accounted for
    assert "2 file(s): 1 stamped, 1 skipped, 0 failed" in found.stderr


def test_a_link_and_its_target_named_together_are_both_stamped(tmp_path: Path) -> None:
    """Two names of one file are two outputs: neither may vanish without a line."""
    folder = tmp_path / "d"
    folder.mkdir()
    shutil.copyfile(PHOTO, folder / "x.jpg")
    (folder / "y.jpg").symlink_to("x.jpg")
    out = tmp_path / "out"
    found = run_cli("stamp", folder / "x.jpg", folder / "y.jpg", "-r", EXAMPLE_RECORD, "-o", out)
    assert found.exit_code == 0, found.stderr
    assert sorted(p.name for p in out.iterdir()) == ["x.jpg", "y.jpg"]


def _delivery(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for name in names:
        shutil.copyfile(PHOTO, folder / name)
    return folder


def test_a_manifest_row_changes_one_value_of_a_list_item_as_set_does(tmp_path: Path) -> None:
    folder = _delivery(tmp_path, "a.jpg")
    manifest = tmp_path / "records.csv"
    manifest.write_text("path,ai_systems.0.version\na.jpg,4.10\n")
    found = run_cli("stamp", folder, "-r", EXAMPLE_RECORD, "--records", manifest, "-o", tmp_path / "out")
    assert found.exit_code == 0, found.stderr
    (report,) = run_cli("inspect", tmp_path / "out" / "a.jpg", "-f", "json").json()["files"]
    assert report["record"]["ai_systems"][0] == {
        "name": "ExampleGen",
        "version": "4.10",
        "provider": "Example AI Inc.",
        "purpose": "sky plate generation",
    }
    assert len(report["record"]["ai_systems"]) == 2


def test_a_bad_manifest_cell_is_blamed_on_its_row_and_column(tmp_path: Path) -> None:
    folder = _delivery(tmp_path, "a.jpg", "b.jpg")
    manifest = tmp_path / "records.csv"
    manifest.write_text("path,title,ai_used\na.jpg,A,true\nb.jpg,B,yes\n")
    found = run_cli("stamp", folder, "-r", EXAMPLE_RECORD, "--records", manifest, "-o", tmp_path / "out")
    assert found.exit_code == 2
    assert (
        f"aidisclose: error: {folder / 'b.jpg'}: field ai_used ({manifest} row 3, column ai_used): "
        "must be true or false, not 'yes'"
    ) in found.stderr.splitlines()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.jpg"]


def test_a_manifest_row_for_no_file_of_the_batch_is_an_error_row(tmp_path: Path) -> None:
    folder = _delivery(tmp_path, "a.jpg", "b.jpg")
    manifest = tmp_path / "records.csv"
    manifest.write_text("path,title\na.jpg,A\nbb.jpg,B\n")
    found = run_cli("stamp", folder, "-r", EXAMPLE_RECORD, "--records", manifest, "-o", tmp_path / "out")
    assert found.exit_code == 2
    assert f"aidisclose: error: {manifest}: row 3 is for bb.jpg, which is not among the files stamped" in found.stderr
    assert "1 failed" in found.stderr.splitlines()[-1]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.jpg", "b.jpg"]


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("records.csv", "path,title\nb.jpg,B\na.jpg,A\n./b.jpg,C\n", "row 2 and row 4 both give the record of b.jpg"),
        ("records.csv", "path,title\nb.jpg,B\nb.jpg,C\n", "row 2 and row 3 both give the record of b.jpg"),
        ("records.json", '{"b.jpg": {"title": "B"}, "./b.jpg": {"title": "C"}}',
         "entry 'b.jpg' and entry './b.jpg' both give the record of b.jpg"),
        ("records.json", '{"b.jpg": {"title": "B"}, "b.jpg": {"title": "C"}}', "'b.jpg' appears twice"),
    ],
)  # fmt: skip
def test_two_rows_for_one_file_refuse_the_manifest_naming_both(
    name: str, text: str, reason: str, tmp_path: Path
) -> None:
    folder = _delivery(tmp_path, "a.jpg", "b.jpg")
    manifest = tmp_path / name
    manifest.write_text(text)
    found = run_cli("stamp", folder, "-r", EXAMPLE_RECORD, "--records", manifest, "-o", tmp_path / "out")
    assert found.exit_code == 2
    (line,) = found.stderr.strip().splitlines()
    assert line.startswith(f"aidisclose: error: {manifest}: ") and reason in line
    assert not (tmp_path / "out").exists()


def test_a_csv_manifest_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    folder = _delivery(tmp_path, "a.jpg")
    manifest = tmp_path / "records.csv"
    manifest.write_bytes(b"\xef\xbb\xbfpath,ai_used,digital_source_type\r\na.jpg,true,algorithmicMedia\r\n")
    found = run_cli("stamp", folder, "--records", manifest, "-o", tmp_path / "out")
    assert found.exit_code == 0, found.stderr
    (report,) = run_cli("inspect", tmp_path / "out" / "a.jpg", "-f", "json").json()["files"]
    assert report["record"]["ai_used"] is True
