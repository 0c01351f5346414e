"""ExifTool, an independent reader, sees what aidisclose writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aidisclose import inspect_file, load_record

from .conftest import EXAMPLE_RECORD, IMAGE_FIXTURES, exiftool_json, run_cli

DST_URI = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


@pytest.mark.parametrize("fixture", IMAGE_FIXTURES, ids=lambda p: p.suffix[1:])
def test_exiftool_reads_standard_ai_fields(fixture: Path, tmp_path: Path) -> None:
    assert run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path).exit_code == 0
    xmp = exiftool_json(tmp_path / fixture.name, "-XMP:all")
    assert xmp["DigitalSourceType"] == DST_URI
    assert xmp["AISystemUsed"] == "ExampleGen; CrowdClone"
    assert xmp["AIPromptInformation"] == "overcast sky at dusk, anamorphic, soft light"
    assert xmp["AIPromptWriterName"] == "A. Artist"
    assert xmp["DataMining"] == "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"
    assert xmp["Creator"] == ["A. Artist", "B. Supervisor"]
    assert xmp["Rights"] == "(c) 2026 Example Studio"
    assert xmp["AiCreditLine"] == "Sky plate: ExampleGen"  # our namespace: photoshop:Credit is the agency's
    assert "Credit" not in xmp
    assert xmp["UsageTerms"] == "Internal review only until release"


@pytest.mark.parametrize("fixture", [f for f in IMAGE_FIXTURES if f.suffix in (".jpg", ".tif")], ids=str)
def test_exiftool_reads_iptc_iim(fixture: Path, tmp_path: Path) -> None:
    assert run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path).exit_code == 0
    iim = exiftool_json(tmp_path / fixture.name, "-IPTC:all")
    assert iim["By-line"] == ["A. Artist", "B. Supervisor"]
    assert "Credit" not in iim
    assert iim["CopyrightNotice"] == "(c) 2026 Example Studio"
    assert iim["CodedCharacterSet"] == "UTF8"


def test_iim_value_over_its_limit_is_left_to_xmp(tmp_path: Path) -> None:
    jpeg = next(f for f in IMAGE_FIXTURES if f.suffix == ".jpg")
    long_title = "Shot 010, sky replacement, version three, the long title IIM cannot hold"
    result = run_cli("stamp", jpeg, "-r", EXAMPLE_RECORD, "--set", f"title={long_title}", "-o", tmp_path)
    assert result.exit_code == 0, result.stderr
    data = exiftool_json(tmp_path / jpeg.name, "-XMP:Title", "-IPTC:ObjectName", "-G")
    assert data["XMP:Title"] == long_title
    assert "IPTC:ObjectName" not in data


def test_a_latin1_iim_block_is_re_encoded_when_it_becomes_utf8(tmp_path: Path) -> None:
    """IIM without a charset is Windows-1252 to ExifTool; the UTF-8 mark must not stand over those bytes."""
    jpeg = tmp_path / "latin.jpg"
    jpeg.write_bytes(next(f for f in IMAGE_FIXTURES if f.suffix == ".jpg").read_bytes())
    latin = ["-charset", "iptc=Latin", "-IPTC:City=Zürich", "-IPTC:Keywords=Café", "-IPTC:Keywords=€ 5"]
    subprocess.run(["exiftool", "-q", "-overwrite_original", *latin, str(jpeg)], check=True)
    assert b"Z\xfcrich" in jpeg.read_bytes()  # really Latin-1 bytes, no charset mark
    creator = "creators.0.name=Zoë Ångström"
    record = load_record(EXAMPLE_RECORD, [creator])
    result = run_cli("stamp", jpeg, "-r", EXAMPLE_RECORD, "--set", creator, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    stamped = tmp_path / "out" / jpeg.name
    iim = exiftool_json(stamped, "-charset", "iptc=Latin", "-IPTC:all")
    assert iim["CodedCharacterSet"] == "UTF8"
    assert iim["City"] == "Zürich"
    assert iim["Keywords"] == ["Café", "€ 5"]
    assert iim["By-line"] == ["Zoë Ångström", "B. Supervisor"]
    assert inspect_file(stamped, technical=False).record.creators == record.creators
