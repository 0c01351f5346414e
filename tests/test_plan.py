"""The stamp plan: destinations are decided, and clashes refused, before the first write."""

from __future__ import annotations

import shutil
from pathlib import Path

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
    assert found.stdout.count("stamped ") == 1


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
