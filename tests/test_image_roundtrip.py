"""A record stamped into each image format reads back equal through `inspect --format json`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from aidisclose import DisclosureRecord
from aidisclose.record import validate_record

from .conftest import IMAGE_FIXTURES, run_cli
from .strategies import records


@pytest.mark.parametrize("fixture", IMAGE_FIXTURES, ids=lambda p: p.suffix[1:])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=records)
def test_generated_record_round_trips(fixture: Path, record: DisclosureRecord, tmp_path: Path) -> None:
    source = tmp_path / fixture.name
    shutil.copyfile(fixture, source)
    record_file = tmp_path / "record.json"
    record_file.write_text(record.model_dump_json(), encoding="utf-8")

    stamped = run_cli("stamp", source, "--record", record_file, "--in-place")
    assert stamped.exit_code == 0, stamped.stderr

    report = run_cli("inspect", source, "--format", "json")
    assert report.exit_code == 0, report.stderr
    (result,) = report.json()["files"]
    assert validate_record(result["record"]) == record
    assert result["provenance"]["conflicts"] == []
    assert result["provenance"]["problems"] == []


@pytest.mark.parametrize("fixture", IMAGE_FIXTURES, ids=lambda p: p.suffix[1:])
def test_example_record_round_trips_with_sources(
    fixture: Path, example_record: DisclosureRecord, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run_cli("stamp", fixture, "-r", "fixtures/example-record.toml", "-o", out).exit_code == 0
    (result,) = run_cli("inspect", out / fixture.name, "-f", "json").json()["files"]
    assert validate_record(result["record"]) == example_record
    sources = result["provenance"]["sources"]
    assert sources["digital_source_type"] == "xmp:Xmp.iptcExt.DigitalSourceType"
    assert sources["ai_systems"] == "xmp:Xmp.aidisclose.AiSystems"
    assert result["provenance"]["stamped_by_aidisclose"] is True
