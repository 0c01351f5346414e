"""Behaviour every format shares: records round-trip, reading never writes."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pyexiv2
import pytest
from hypothesis import HealthCheck, given, settings

from aidisclose import DisclosureRecord, load_record, stamp
from aidisclose.carriers.base import Carrier
from aidisclose.carriers.exiv2 import _MAX_APP1_PACKET, PINNED_NAMESPACES, edit_packet, read_packet
from aidisclose.fieldmap import carrier_keys, encode_record
from aidisclose.record import validate_record

from .conftest import ALL_FIXTURES, EXAMPLE_RECORD, run_cli, snapshot
from .strategies import records

by_suffix = pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)


@by_suffix
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=records)
def test_generated_record_round_trips(fixture: Path, record: DisclosureRecord, tmp_path: Path) -> None:
    # A folder per example: a sidecar left by an earlier example would rightly keep its standard fields.
    source = Path(tempfile.mkdtemp(dir=tmp_path)) / fixture.name
    shutil.copyfile(fixture, source)
    record_file = source.with_name("record.json")
    record_file.write_text(record.model_dump_json(), encoding="utf-8")

    stamped = run_cli("stamp", source, "--record", record_file, "--in-place")
    assert stamped.exit_code == 0, stamped.stderr

    report = run_cli("inspect", source, "--format", "json")
    assert report.exit_code == 0, report.stderr
    (result,) = report.json()["files"]
    assert validate_record(result["record"]) == record
    assert result["provenance"]["stamped_by_aidisclose"] is True
    assert result["provenance"]["conflicts"] == []
    assert result["provenance"]["problems"] == []


@by_suffix
def test_reading_never_changes_a_file(fixture: Path, tmp_path: Path) -> None:
    stamped = tmp_path / fixture.name
    shutil.copyfile(fixture, stamped)
    stamp(stamped, load_record(EXAMPLE_RECORD), in_place=True)
    for path in (fixture, stamped):
        before = snapshot(path)
        assert run_cli("inspect", path).exit_code == 0
        assert run_cli("inspect", path, "-f", "json").exit_code == 0
        assert snapshot(path) == before


@settings(max_examples=150, deadline=None)
@given(record=records)
def test_a_bare_packet_reads_as_exiv2_reads_it_as_a_sidecar(record: DisclosureRecord) -> None:
    # Bare packets (audio, video) are read through a minimal JPEG, which skips the sidecar reader's
    # conversions to Exif/IPTC; the XMP must come out exactly as the sidecar reader gives it.
    packet = edit_packet(None, "generated", encode_record(record, [Carrier.XMP]))
    trailer = packet.rindex(b"<?xpacket end")
    too_big_for_jpeg = packet[:trailer] + b" " * (_MAX_APP1_PACKET + 1 - len(packet)) + packet[trailer:]
    assert len(packet) <= _MAX_APP1_PACKET < len(too_big_for_jpeg)
    with pyexiv2.ImageData(packet) as sidecar:
        expected = sidecar.read_xmp()
    assert expected and any(key.startswith("Xmp.aidisclose.") for key in expected)
    assert read_packet(packet, "generated") == expected
    assert read_packet(too_big_for_jpeg, "generated") == expected


def test_every_xmp_prefix_the_field_map_uses_is_pinned() -> None:
    # A prefix left out could be re-pointed by one hostile file for the rest of a batch.
    assert {key.split(".")[1] for key in carrier_keys(Carrier.XMP)} <= set(PINNED_NAMESPACES)
