"""Video: MP4/MOV/M4V edited in place in O(metadata), crash-safe; sidecars; MediaInfo facts."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from mutagen.mp4 import MP4 as MutagenMP4

from aidisclose import DisclosureRecord, inspect_file, load_record, stamp
from aidisclose.carriers.bmff import XMP_UUID, top_level_boxes, xmp_layout
from aidisclose.record import validate_record
from aidisclose.safewrite import Verify

from .conftest import EXAMPLE_RECORD, VIDEO_FIXTURES, exiftool_json, run_cli, snapshot

BY_NAME = {f.name: f for f in VIDEO_FIXTURES}
MP4, MOV, M4V, FRAGMENTED, MKV = (
    BY_NAME[n] for n in ("clip.mp4", "clip.mov", "clip.m4v", "fragmented.mp4", "clip.mkv")
)
BMFF = [MP4, MOV, M4V, FRAGMENTED]
DST_URI = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
names = lambda p: p.name  # noqa: E731


def framemd5(path: Path) -> str:
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "framemd5", "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def decode_errors(path: Path) -> str:
    """What ffmpeg says when it decodes the whole file; empty when it plays to the end."""
    run = subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True)
    return run.stderr.decode() if run.returncode == 0 else f"exit {run.returncode}: {run.stderr.decode()}"


def xmp_boxes(path: Path) -> list[bytes]:
    """Top-level box types whose payload starts with the XMP UUID (live 'uuid' or retired 'free')."""
    data = path.read_bytes()
    return [b.kind for b in top_level_boxes(path) if data[b.payload : b.payload + 16] == XMP_UUID]


@pytest.mark.parametrize("fixture", BMFF, ids=names)
def test_frames_identical_and_file_plays(fixture: Path, tmp_path: Path) -> None:
    assert run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path).exit_code == 0
    stamped = tmp_path / fixture.name
    assert framemd5(stamped) == framemd5(fixture)
    assert decode_errors(stamped) == ""


@pytest.mark.parametrize("fixture", BMFF, ids=names)
def test_exiftool_reads_xmp_uuid_box(fixture: Path, tmp_path: Path) -> None:
    assert run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path).exit_code == 0
    xmp = exiftool_json(tmp_path / fixture.name, "-XMP:all")
    assert xmp["DigitalSourceType"] == DST_URI
    assert xmp["AISystemUsed"] == "ExampleGen; CrowdClone"


@pytest.mark.parametrize("fixture", [MOV, M4V], ids=names)
def test_key_fields_as_item_tags_when_moov_is_last(fixture: Path, tmp_path: Path) -> None:
    result = stamp(fixture, load_record(EXAMPLE_RECORD), output_dir=tmp_path)
    assert result.notes == () and result.carriers == ("xmp", "mp4")
    stamped = tmp_path / fixture.name
    tags = MutagenMP4(stamped).tags  # mutagen as a witness of the atoms we built by hand
    assert [bytes(v) for v in tags["----:org.aidisclose:AI_USED"]] == [b"true"]
    assert [bytes(v) for v in tags["----:org.aidisclose:DIGITAL_SOURCE_TYPE"]] == [DST_URI.encode()]
    assert tags["cprt"] == ["(c) 2026 Example Studio"]
    data = exiftool_json(stamped, "-G1", "-iTunes:all", "-ItemList:all", "-UserData:all")
    assert data["iTunes:AI_SYSTEMS"] == "ExampleGen; CrowdClone"
    before = exiftool_json(fixture, "-G1", "-ItemList:Title", "-UserData:Title")
    before.pop("SourceFile")
    assert {k: data.get(k) for k in before} == before  # the file's own title is kept
    assert framemd5(stamped) == framemd5(fixture)
    assert decode_errors(stamped) == ""


@pytest.mark.parametrize("fixture", [MP4, FRAGMENTED], ids=names)
def test_faststart_and_fragmented_keep_their_layout_and_say_so(fixture: Path, tmp_path: Path) -> None:
    result = run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path)
    assert result.exit_code == 0
    assert "faststart" in result.stderr and "XMP box holds the whole record" in result.stderr
    stamped = tmp_path / fixture.name
    kinds = [b.kind for b in top_level_boxes(stamped)]
    assert kinds[: len(top_level_boxes(fixture))] == [b.kind for b in top_level_boxes(fixture)]
    assert kinds.count(b"moov") == 1
    assert inspect_file(stamped).record == load_record(EXAMPLE_RECORD)


def test_media_boxes_do_not_move(tmp_path: Path) -> None:
    target = tmp_path / MP4.name
    shutil.copyfile(MP4, target)
    before = {(b.kind, b.offset, b.size) for b in top_level_boxes(target)}
    stamp(target, load_record(EXAMPLE_RECORD), in_place=True)
    after = {(b.kind, b.offset, b.size) for b in top_level_boxes(target)}
    assert before <= after  # every original box is where it was, the same size
    assert target.read_bytes()[: MP4.stat().st_size] == MP4.read_bytes()  # not one original byte changed


def test_restamping_reuses_slots_and_keeps_one_live_box(tmp_path: Path) -> None:
    target = tmp_path / MP4.name
    shutil.copyfile(MP4, target)
    record = load_record(EXAMPLE_RECORD)
    sizes = []
    for step in range(4):
        stamp(target, record.model_copy(update={"asset_id": f"STEP{step}"}), in_place=True)
        sizes.append(target.stat().st_size)
        assert xmp_boxes(target).count(b"uuid") == 1
        assert inspect_file(target).record.asset_id == f"STEP{step}"
    assert sizes[2] == sizes[1] and sizes[3] == sizes[1]  # two slots take turns from the second stamp on
    assert decode_errors(target) == ""


def test_one_gib_sparse_mdat_costs_o_metadata(tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    shutil.copyfile(MP4, big)
    mdat = next(b for b in top_level_boxes(big) if b.kind == b"mdat")
    assert mdat.end == big.stat().st_size  # the fixture's mdat is last: grow it into a sparse GiB
    grown = mdat.size + (1 << 30)
    with open(big, "r+b") as handle:
        handle.seek(mdat.offset)
        handle.write(struct.pack(">I", grown))
        handle.truncate(mdat.offset + grown)
    io_before = _proc_io()
    result = stamp(big, load_record(EXAMPLE_RECORD), in_place=True)
    io_after = _proc_io()
    written = io_after["wchar"] - io_before["wchar"]
    read = io_after["rchar"] - io_before["rchar"]
    assert result.bytes_written < 1 << 20
    assert written < 1 << 20, f"wrote {written} bytes"
    assert read < 4 << 20, f"read {read} bytes"
    assert inspect_file(big, technical=False).record == load_record(EXAMPLE_RECORD)


def _proc_io() -> dict[str, int]:
    fields = (line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return {name: int(value) for name, value in fields}


def test_verify_full_hashes_the_media_and_passes(tmp_path: Path) -> None:
    target = tmp_path / MOV.name
    shutil.copyfile(MOV, target)
    stamp(target, load_record(EXAMPLE_RECORD), in_place=True, verify=Verify.full)
    assert run_cli("stamp", target, "-r", EXAMPLE_RECORD, "--in-place", "--verify", "full").exit_code == 0
    assert framemd5(target) == framemd5(MOV)


def add_legacy_xmp(mov: Path, packet: bytes) -> None:
    """Put XMP where older QuickTime writers did: moov/udta/XMP_ (the fixture's moov is last)."""
    moov = next(b for b in top_level_boxes(mov) if b.kind == b"moov")
    assert moov.end == mov.stat().st_size and moov.header == 8
    xmp_box = struct.pack(">I4s", 8 + len(packet), b"XMP_") + packet
    udta = struct.pack(">I4s", 8 + len(xmp_box), b"udta") + xmp_box
    with open(mov, "r+b") as handle:
        handle.seek(moov.offset)
        handle.write(struct.pack(">I", moov.size + len(udta)))
        handle.seek(0, 2)
        handle.write(udta)


def test_mov_legacy_udta_xmp_is_read_then_retired(tmp_path: Path) -> None:
    target = tmp_path / MOV.name
    shutil.copyfile(MOV, target)
    old = stamp_packet_of({"digital_source_type": "digitalCapture", "title": "Old"})
    add_legacy_xmp(target, old)
    assert inspect_file(target).record.title == "Old"
    stamp(target, load_record(EXAMPLE_RECORD), in_place=True)
    result = inspect_file(target)
    assert result.record == load_record(EXAMPLE_RECORD)
    assert result.provenance.conflicts == []
    live = xmp_layout(target, top_level_boxes(target)).live
    assert [box.kind for box, _ in live] == [b"uuid"]  # moov/udta/XMP_ is no longer live
    assert decode_errors(target) == ""


def stamp_packet_of(data: dict[str, object]) -> bytes:
    from aidisclose.carriers.exiv2 import edit_packet
    from aidisclose.fieldmap import encode_record

    return edit_packet(None, "test", encode_record(validate_record(data), ("xmp",)))


# -- crash safety: a process killed after every fsync ----------------------------

CRASHING_CHILD = """
import os, sys
from aidisclose import load_record, stamp
limit, calls, real_fsync = int(sys.argv[3]), [0], os.fsync
def fsync_then_die(fd):
    real_fsync(fd)
    calls[0] += 1
    if calls[0] == limit:
        os._exit(137)  # like kill -9: no cleanup, no rollback
os.fsync = fsync_then_die
stamp(sys.argv[1], load_record(sys.argv[2]), in_place=True)
"""


def _record_file(tmp_path: Path, name: str, record: DisclosureRecord) -> Path:
    path = tmp_path / name
    path.write_text(record.model_dump_json())
    return path


@pytest.mark.parametrize("fixture", [MP4, MOV], ids=["xmp-box", "xmp-box+moov"])
@pytest.mark.parametrize("earlier_stamps", [0, 1, 2], ids=["first-stamp", "append", "reuse-slot"])
def test_killed_at_any_fsync_leaves_old_or_new_record(fixture: Path, earlier_stamps: int, tmp_path: Path) -> None:
    example = load_record(EXAMPLE_RECORD)
    records = [example.model_copy(update={"asset_id": f"V{i}"}) for i in range(earlier_stamps + 1)]
    new = records[-1]
    seen_crash = False
    for limit in range(1, 20):
        target = tmp_path / f"crash{limit}{fixture.suffix}"
        shutil.copyfile(fixture, target)
        for record in records[:-1]:
            stamp(target, record, in_place=True)
        old = inspect_file(target, technical=False).record
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                CRASHING_CHILD,
                str(target),
                str(_record_file(tmp_path, "new.json", new)),
                str(limit),
            ],
            capture_output=True,
            text=True,
        )
        after = inspect_file(target, technical=False)
        assert after.record in (old, new), f"fsync #{limit}: neither old nor new"
        assert decode_errors(target) == "", f"fsync #{limit}: does not play"
        if child.returncode == 0:
            assert after.record == new
            break
        assert child.returncode == 137, child.stderr
        seen_crash = True
    else:
        pytest.fail("the stamp never finished")
    assert seen_crash


# -- bad input -------------------------------------------------------------------


def truncated_box(data: bytes) -> bytes:
    return data[: len(data) - 100]


def size_past_end(data: bytes) -> bytes:
    assert data[32:36] == b"moov"  # the box after the 28-byte ftyp
    return data[:28] + struct.pack(">I", 10_000_000) + data[32:]


def nested_1000_deep(data: bytes) -> bytes:
    ftyp = data[:28]
    inner = b""
    for _ in range(1000):
        inner = struct.pack(">I4s", 8 + len(inner), b"moov") + inner
    return ftyp + inner


BAD_VIDEO = {
    "truncated.mp4": truncated_box,
    "size-past-end.mp4": size_past_end,
    "nested.mp4": nested_1000_deep,
    "empty.mp4": lambda _data: b"",
}


@pytest.mark.parametrize("name", sorted(BAD_VIDEO))
@pytest.mark.parametrize("mode", ["--in-place", "--output"])
def test_bad_video_exit_2_one_line_unchanged(name: str, mode: str, tmp_path: Path) -> None:
    bad = tmp_path / name
    bad.write_bytes(BAD_VIDEO[name](MP4.read_bytes()))
    before = snapshot(bad)
    args = ["--in-place"] if mode == "--in-place" else ["--output", str(tmp_path / "out")]
    result = run_cli("stamp", bad, "-r", EXAMPLE_RECORD, *args)
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(bad) in line
    assert snapshot(bad) == before
    assert not (tmp_path / "out" / name).exists()
    assert not list(tmp_path.rglob("*aidisclose-tmp"))


# -- sidecars and MediaInfo -------------------------------------------------------


def test_matroska_gets_a_sidecar_and_is_never_written(tmp_path: Path) -> None:
    target = tmp_path / MKV.name
    shutil.copyfile(MKV, target)
    before = snapshot(target)
    result = run_cli("stamp", target, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 0, result.stderr
    assert snapshot(target) == before
    sidecar = tmp_path / "clip.mkv.xmp"
    assert exiftool_json(sidecar, "-XMP:DigitalSourceType")["DigitalSourceType"] == DST_URI
    (report,) = run_cli("inspect", target, "-f", "json").json()["files"]
    assert report["provenance"]["sidecar"] == str(sidecar)
    assert validate_record(report["record"]) == load_record(EXAMPLE_RECORD)
    assert "from the sidecar" in run_cli("inspect", target).stdout


def test_sidecar_output_copies_media_and_sidecar(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("stamp", MKV, "-r", EXAMPLE_RECORD, "-o", out).exit_code == 0
    assert (out / MKV.name).read_bytes() == MKV.read_bytes()
    assert inspect_file(out / MKV.name).record == load_record(EXAMPLE_RECORD)
    assert not (FIXTURES_SIDECAR := MKV.with_name(MKV.name + ".xmp")).exists(), FIXTURES_SIDECAR


def test_sidecar_keeps_other_xmp_already_there(tmp_path: Path) -> None:
    target = tmp_path / MKV.name
    shutil.copyfile(MKV, target)
    (tmp_path / "clip.mkv.xmp").write_bytes(stamp_packet_of({"production": "Kept"}))
    stamp(target, validate_record({"ai_used": True}), in_place=True)
    record = inspect_file(target).record
    assert record.ai_used is True
    assert record.production is None  # our own namespace: a field left out is removed


def test_mediainfo_facts_in_inspect() -> None:
    (report,) = run_cli("inspect", MP4, "-f", "json").json()["files"]
    facts = report["provenance"]["technical"]
    assert facts["container"] == "MPEG-4" and facts["duration_ms"] == 500
    video = next(t for t in facts["tracks"] if t["type"] == "video")
    audio = next(t for t in facts["tracks"] if t["type"] == "audio")
    assert (video["width"], video["height"], video["frame_rate"]) == (64, 48, 10.0)
    assert (audio["sample_rate"], audio["channels"]) == (22050, 1)
