"""inspect reports carriers that disagree or hold bad values, and reads other tools' files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aidisclose import inspect_file, load_record, stamp

from .conftest import EXAMPLE_RECORD, IMAGE_FIXTURES, run_cli

JPEG = next(f for f in IMAGE_FIXTURES if f.suffix == ".jpg")


def test_unstamped_file_has_empty_record() -> None:
    result = inspect_file(JPEG)
    assert result.record.to_json_dict() == {"schema_version": 1}
    assert result.provenance.stamped_by_aidisclose is False
    assert result.provenance.carriers == ["xmp"]  # the fixture's own CreatorTool/description
    assert "no disclosure metadata found" in run_cli("inspect", JPEG).stdout


def exiftool_write(path: Path, *assignments: str) -> None:
    subprocess.run(["exiftool", "-q", "-overwrite_original", *assignments, str(path)], check=True)


@pytest.fixture
def stamped_jpeg(tmp_path: Path) -> Path:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    stamp(target, load_record(EXAMPLE_RECORD), in_place=True)
    return target


def test_carriers_that_disagree_are_reported(stamped_jpeg: Path) -> None:
    # Another tool edits the standard XMP creator list but not our record, nor IIM.
    exiftool_write(stamped_jpeg, "-XMP-dc:Creator=Someone Else")
    prov = inspect_file(stamped_jpeg).provenance
    (conflict,) = prov.conflicts
    assert conflict.field == "creators"
    assert conflict.source == "xmp:Xmp.aidisclose.Creators"
    assert conflict.other_source == "xmp:Xmp.dc.creator"
    assert conflict.other_value == [{"name": "Someone Else"}]
    assert conflict.value == [{"name": "A. Artist"}, {"name": "B. Supervisor"}]
    assert "conflict" in run_cli("inspect", stamped_jpeg).stdout


def test_iim_disagreeing_with_xmp_is_reported(stamped_jpeg: Path) -> None:
    exiftool_write(stamped_jpeg, "-IPTC:CopyrightNotice=(c) Somebody Else")
    (conflict,) = inspect_file(stamped_jpeg).provenance.conflicts
    assert (conflict.field, conflict.other_source) == ("copyright", "iptc:Iptc.Application2.Copyright")
    assert conflict.other_value == "(c) Somebody Else"


def test_unknown_source_type_is_a_problem_not_a_crash(stamped_jpeg: Path) -> None:
    exiftool_write(stamped_jpeg, "-XMP-iptcExt:DigitalSourceType=http://example.com/madeUp")
    result = inspect_file(stamped_jpeg)
    assert result.record.digital_source_type == "compositeWithTrainedAlgorithmicMedia"  # ours, in our namespace
    (problem,) = result.provenance.problems
    assert problem.field == "digital_source_type"
    assert problem.value == "http://example.com/madeUp"
    assert problem.reason.startswith("Input should be ")  # the field's own message, no stray path


def test_retired_source_type_is_read(stamped_jpeg: Path) -> None:
    exiftool_write(
        stamped_jpeg, "-XMP-iptcExt:DigitalSourceType=http://cv.iptc.org/newscodes/digitalsourcetype/softwareImage"
    )
    (conflict,) = inspect_file(stamped_jpeg).provenance.conflicts
    assert (conflict.other_source, conflict.other_value) == ("xmp:Xmp.iptcExt.DigitalSourceType", "softwareImage")


FOREIGN_PACKET = """<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:plus="http://ns.useplus.org/ldf/xmp/1.0/"
    Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    Iptc4xmpExt:AISystemUsed="OtherGen; SecondGen"
    Iptc4xmpExt:AISystemVersionUsed="2; 7b"
    plus:DataMining="http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-GENAIMLTRAINING"/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""


def test_file_written_by_another_tool_is_read_from_standard_fields(tmp_path: Path) -> None:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    packet = tmp_path / "foreign.xmp"
    packet.write_text(FOREIGN_PACKET, encoding="utf-8")
    exiftool_write(target, f"-xmp<={packet}")  # ExifTool stores another tool's packet as it is
    result = inspect_file(target)
    record = result.record
    assert record.digital_source_type == "trainedAlgorithmicMedia"
    assert [(s.name, s.version) for s in record.ai_systems] == [("OtherGen", "2"), ("SecondGen", "7b")]
    assert record.training_mining == "not-allowed"
    assert result.provenance.sources["ai_systems"] == "xmp:Xmp.iptcExt.AISystemUsed"
    assert result.provenance.stamped_by_aidisclose is False
