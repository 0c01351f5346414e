"""The example record in each image format, and where inspect says each value came from."""

from __future__ import annotations

from pathlib import Path

import pytest

from aidisclose import DisclosureRecord
from aidisclose.record import validate_record

from .conftest import IMAGE_FIXTURES, run_cli


@pytest.mark.parametrize("fixture", IMAGE_FIXTURES, ids=lambda p: p.suffix[1:])
def test_example_record_round_trips_with_sources(
    fixture: Path, example_record: DisclosureRecord, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert run_cli("stamp", fixture, "-r", "fixtures/example-record.toml", "-o", out).exit_code == 0
    (result,) = run_cli("inspect", out / fixture.name, "-f", "json").json()["files"]
    assert validate_record(result["record"]) == example_record
    sources = result["provenance"]["sources"]
    assert sources["digital_source_type"] == "xmp:Xmp.aidisclose.DigitalSourceType"
    assert sources["ai_systems"] == "xmp:Xmp.aidisclose.AiSystems"
    assert result["provenance"]["stamped_by_aidisclose"] is True
