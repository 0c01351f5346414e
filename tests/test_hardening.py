"""For any input aidisclose does what was asked or says why in one line: no traceback, no hang, no lost file."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aidisclose import DisclosureError, inspect_file, load_record, stamp
from aidisclose.bounded import Overrun, call_bounded

from .conftest import ALL_FIXTURES, EXAMPLE_RECORD, FIXTURES, exiftool_json, run_cli, snapshot
from .faults import FaultPlan, faults, sweep
from .hostile import PACKETS, REBINDS_DC, XMP_CARRIERS, XMP_UUID, riff_chunk
from .killing import VICTIMS, kill_loop

REGRESSIONS = Path(__file__).parent / "regressions"
AIDISCLOSE = Path(sys.executable).with_name("aidisclose")
REASONS = {
    "billion-laughs": "declares a DTD",
    "external-entity": "declares a DTD",
    "external-dtd": "declares a DTD",
    "deep-nesting": "nests deeper than 64",
    "invalid-utf8": "not valid UTF-8",
    "not-well-formed": "not well-formed XML",
    "unbound-prefix": "not well-formed XML (unbound prefix",
}

LOOPS_MEDIAINFO = REGRESSIONS / "mkv-mediainfo-loops-without-tracks-id.mkv"


@pytest.fixture(autouse=True)
def quick_parse_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A parser that hangs on a mutant gives up after 3 s here rather than the default 20."""
    monkeypatch.setenv("AIDISCLOSE_PARSE_SECONDS", "3")


def read_or_refuse(path: Path) -> None:
    """The reader's promise: a record, or a DisclosureError; nothing else escapes."""
    try:
        inspect_file(path, technical=False)
    except DisclosureError as exc:
        assert "\n" not in str(exc)


# -- hostile XMP ------------------------------------------------------------------


@pytest.mark.parametrize("attack", sorted(PACKETS))
@pytest.mark.parametrize("carrier", sorted(XMP_CARRIERS))
def test_hostile_xmp_is_refused_with_its_reason(carrier: str, attack: str, tmp_path: Path) -> None:
    media = XMP_CARRIERS[carrier](PACKETS[attack], tmp_path)
    before = {p: snapshot(p) for p in tmp_path.iterdir()}
    inspected = run_cli("inspect", media)
    assert inspected.exit_code == 2
    (line,) = inspected.stderr.strip().splitlines()
    assert REASONS[attack] in line and str(media) in line
    assert "root:" not in inspected.stdout + inspected.stderr  # /etc/passwd was never read into anything
    stamped = run_cli("stamp", media, "-r", EXAMPLE_RECORD, "--in-place")
    assert stamped.exit_code == 2 and REASONS[attack] in stamped.stderr
    assert {p: snapshot(p) for p in tmp_path.iterdir()} == before
    verdict = run_cli("check", tmp_path, "-f", "json").json()["files"][0]
    assert verdict["verdict"] == "error" and REASONS[attack] in verdict["reason"]


@pytest.mark.parametrize("carrier", ["jpeg-app1", "mp3-priv", "mp4-uuid"])
def test_a_file_that_rebinds_a_standard_prefix_leaves_later_stamps_alone(carrier: str, tmp_path: Path) -> None:
    # exiv2's prefix registry is process-wide: reading this file once re-pointed dc: for every later
    # write of the process, so a batch put the next files' copyright lines into a foreign namespace.
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    inspect_file(XMP_CARRIERS[carrier](REBINDS_DC, hostile), technical=False)
    record = load_record(EXAMPLE_RECORD)
    for fixture in (FIXTURES / "images" / "photo.jpg", FIXTURES / "audio" / "tone.mp3"):
        stamped = stamp(fixture, record, output_dir=tmp_path / "out").destination
        witness = exiftool_json(stamped, "-XMP-dc:Rights", "-G1")
        assert witness.get("XMP-dc:Rights") == record.copyright, witness


def test_oversized_packet_is_refused_unread(tmp_path: Path) -> None:
    target = tmp_path / "huge-xmp.mp4"
    size = 17 << 20
    with open(target, "wb") as handle:
        handle.write((FIXTURES / "video" / "clip.mp4").read_bytes())
        handle.write(struct.pack(">I", 8 + size) + b"uuid" + XMP_UUID)
        handle.truncate(handle.tell() + size - 16)  # sparse: 17 MiB that cost no disk
    result = run_cli("inspect", target)
    assert result.exit_code == 2 and "over the 16 MiB limit; refused unread" in result.stderr


# -- hostile containers -----------------------------------------------------------


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_decompression_bomb_image_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0))
    pixels = png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + header + pixels + png_chunk(b"IEND", b""))
    before = snapshot(bomb)
    result = run_cli("stamp", bomb, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert "refused to decode the pixels" in line
    assert snapshot(bomb) == before


def test_wav_with_thousands_of_chunks_is_stamped_and_keeps_them(tmp_path: Path) -> None:
    data = bytearray((FIXTURES / "audio" / "tone.wav").read_bytes())
    data += b"".join(riff_chunk(b"junk", struct.pack("<I", index)) for index in range(5000))
    data[4:8] = struct.pack("<I", len(data) - 8)
    target = tmp_path / "chunky.wav"
    target.write_bytes(bytes(data))
    stamp(target, load_record(EXAMPLE_RECORD), in_place=True)
    assert inspect_file(target, technical=False).record == load_record(EXAMPLE_RECORD)
    assert target.read_bytes().count(b"junk\x04\x00\x00\x00") == 5000


def box_smaller_than_its_header(data: bytes) -> bytes:
    assert data[32:36] == b"moov"  # the box after the 28-byte ftyp
    return data[:28] + struct.pack(">I", 4) + data[32:]


def moov_overlapping_the_next_box(data: bytes) -> bytes:
    (moov_size,) = struct.unpack(">I", data[28:32])
    return data[:28] + struct.pack(">I", moov_size + 16) + data[32:]


def riff_chunk_past_the_end(data: bytes) -> bytes:
    out = bytearray(data + b"LIST" + struct.pack("<I", 0xFFFFFFF0) + b"INFO")
    out[4:8] = struct.pack("<I", len(out) - 8)  # the RIFF size tells no lie; the chunk's does
    return bytes(out)


LYING = {
    "box-smaller-than-its-header.mp4": box_smaller_than_its_header,
    "boxes-overlap.mp4": moov_overlapping_the_next_box,
    "chunk-size-past-end.wav": riff_chunk_past_the_end,
}


@pytest.mark.parametrize("name", sorted(LYING))
def test_lying_sizes_are_refused_in_one_line(name: str, tmp_path: Path) -> None:
    source = FIXTURES / ("video/clip.mp4" if name.endswith(".mp4") else "audio/tone.wav")
    target = tmp_path / name
    target.write_bytes(LYING[name](source.read_bytes()))
    before = snapshot(target)
    for command in (["inspect", target], ["stamp", target, "-r", EXAMPLE_RECORD, "--in-place"]):
        result = run_cli(*command)
        assert result.exit_code == 2
        (line,) = result.stderr.strip().splitlines()
        assert str(target) in line
    assert snapshot(target) == before


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_cut_at_every_byte_the_reader_refuses_or_reads(fixture: Path, tmp_path: Path) -> None:
    data = fixture.read_bytes()
    step = 1 if len(data) <= 8192 else 7  # every offset of the small fixtures, every 7th of the others
    target = tmp_path / f"cut{fixture.suffix}"
    for cut in range(0, len(data), step):
        target.write_bytes(data[:cut])
        read_or_refuse(target)


# -- mutation fuzzing of every reader ---------------------------------------------


@pytest.fixture(scope="module")
def fuzz_seeds(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Every fixture as shipped and as stamped, so the fuzzer meets our own carriers filled in."""
    folder = tmp_path_factory.mktemp("stamped")
    record = load_record(EXAMPLE_RECORD)
    stamped = [stamp(f, record, output_dir=folder).destination for f in ALL_FIXTURES]
    return [*ALL_FIXTURES, *stamped]


def mutate(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for kind, position, value in edits:
        at = position % (len(out) + 1)
        if kind == 0:  # overwrite, often with a size-like value
            out[at : at + len(value)] = value
        elif kind == 1:
            out[at:at] = value
        else:
            del out[at : at + len(value) + 1]
    return bytes(out)


EDITS = st.lists(
    st.tuples(
        st.integers(0, 2),
        st.integers(0, 1 << 20),
        st.one_of(
            st.binary(min_size=1, max_size=8),
            st.sampled_from([b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\x7f\x7f\x7f", b"\x00\x00\x00\x01"]),
        ),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), edits=EDITS)
def test_mutated_files_are_read_or_refused(
    fuzz_seeds: list[Path], seed: int, edits: list[tuple[int, int, bytes]], tmp_path: Path
) -> None:
    source = fuzz_seeds[seed % len(fuzz_seeds)]
    target = tmp_path / f"mutant{source.suffix}"
    target.write_bytes(mutate(source.read_bytes(), edits))
    if source.suffix == ".mkv" and (source.parent / f"{source.name}.xmp").exists():
        shutil.copyfile(source.parent / f"{source.name}.xmp", tmp_path / f"{target.name}.xmp")
    read_or_refuse(target)


@pytest.mark.parametrize("sample", sorted(REGRESSIONS.iterdir()), ids=lambda p: p.name)
def test_regression_inputs_are_read_or_refused(sample: Path) -> None:
    read_or_refuse(sample)


def test_a_parser_that_loops_is_stopped_and_the_batch_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIDISCLOSE_PARSE_SECONDS", "2")
    shutil.copyfile(LOOPS_MEDIAINFO, tmp_path / "a-hostile.mkv")
    shutil.copyfile(FIXTURES / "video" / "clip.mkv", tmp_path / "b-good.mkv")
    clock = time.monotonic()
    checked = run_cli("check", tmp_path, "-f", "json", "--jobs", "2")
    assert time.monotonic() - clock < 30  # libmediainfo alone spins for ever and grows past a gigabyte
    assert checked.exit_code == 2
    hostile, good = checked.json()["files"]
    assert hostile["verdict"] == "error" and "MediaInfo gave up after 2 s" in hostile["reason"]
    assert good["verdict"] == "fail" and good["record"] is not None  # read in full: an unstamped file


def _sleep_forever() -> bytes:
    time.sleep(3600)
    return b""


def _allocate(megabytes: int) -> bytes:
    return bytes(megabytes << 20)


def _abort() -> bytes:
    os.abort()


def test_bounded_call_kills_an_overrun_and_the_next_call_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIDISCLOSE_PARSE_SECONDS", "0.5")
    with pytest.raises(Overrun, match=r"x: parser gave up after 0\.5 s"):
        call_bounded("x", "parser", _sleep_forever)
    assert call_bounded("y", "parser", _allocate, 1) == bytes(1 << 20)


def test_bounded_call_holds_memory_under_the_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIDISCLOSE_PARSE_MEGABYTES", "64")
    with pytest.raises(DisclosureError, match="x: parser failed: ran out of memory"):
        call_bounded("x", "parser", _allocate, 256)
    assert len(call_bounded("y", "parser", _allocate, 8)) == 8 << 20


def test_bounded_call_reports_a_crash_in_one_line() -> None:
    with pytest.raises(Overrun, match=r"x: parser crashed \(SIGABRT"):
        call_bounded("x", "parser", _abort)


# -- faults while writing ---------------------------------------------------------


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO], ids=errno.errorcode.get)
@pytest.mark.parametrize("mode", ["in-place", "output"])
@pytest.mark.parametrize("victim", VICTIMS, ids=lambda p: p.name)
def test_a_fault_at_any_write_loses_nothing(victim: Path, mode: str, code: int, tmp_path: Path) -> None:
    tally = sweep(victim, tmp_path, mode == "in-place", load_record(EXAMPLE_RECORD), code)
    assert tally.faults == tally.operations > 0
    assert tally.damaged == [] and tally.leftovers == [] and tally.bad_errors == []
    assert tally.unchanged + tally.stamped + tally.absorbed == tally.faults


def test_permission_lost_mid_batch_fails_the_rest_cleanly(tmp_path: Path) -> None:
    sources = tmp_path / "in"
    sources.mkdir()
    for index in range(6):
        shutil.copyfile(FIXTURES / "images" / "photo.jpg", sources / f"{index}.jpg")
    before = {p: snapshot(p) for p in sources.iterdir()}
    with faults(FaultPlan(at=9, errno=errno.EACCES, sticky=True)) as plan:
        result = run_cli("stamp", sources, "-r", EXAMPLE_RECORD, "--output", tmp_path / "out", "--jobs", "1")
    assert plan.fired
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("aidisclose: error:")]
    assert errors and all(line.endswith("stamping failed: Permission denied; nothing was changed") for line in errors)
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(written) + len(errors) == 6
    assert all(
        inspect_file(tmp_path / "out" / n, technical=False).record == load_record(EXAMPLE_RECORD) for n in written
    )
    assert {p: snapshot(p) for p in sources.iterdir()} == before
    assert not list(tmp_path.rglob(".*aidisclose*"))


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))  # Python ignores SIGXFSZ: writes fail EFBIG


@pytest.mark.parametrize("mode", ["--in-place", "--output"])
def test_a_real_disk_limit_is_one_line_and_loses_nothing(mode: str, tmp_path: Path) -> None:
    target = tmp_path / "tone.wav"  # 45 KB: larger than the limit, so any copy of it fails
    shutil.copyfile(FIXTURES / "audio" / "tone.wav", target)
    before = snapshot(target)
    args = [mode] if mode == "--in-place" else [mode, str(tmp_path / "out")]
    result = subprocess.run(
        [AIDISCLOSE, "stamp", target, "-r", EXAMPLE_RECORD, *args],
        capture_output=True,
        text=True,
        preexec_fn=_limit_file_size,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(target) in line and "File too large" in line
    assert snapshot(target) == before
    assert not list(tmp_path.rglob(".*aidisclose*"))


def test_a_hundred_kills_lose_no_file(tmp_path: Path) -> None:
    tally = kill_loop(tmp_path, kills=100, example=EXAMPLE_RECORD, seed=9)
    assert tally.kills == 100
    assert tally.lost == [] and tally.leftovers == []
    assert sum(tally.after.values()) == 100
    interrupted = tally.kills - tally.states["between writes"]
    assert interrupted > 0, tally.states  # some kills must land mid-write, or the test proves nothing


# -- paths ------------------------------------------------------------------------


@pytest.mark.parametrize("special", ["fifo", "/dev/null"])
def test_special_files_are_refused_without_being_opened(special: str, tmp_path: Path) -> None:
    path = Path(special)
    if special == "fifo":
        path = tmp_path / "pipe.jpg"
        os.mkfifo(path)
    result = subprocess.run([AIDISCLOSE, "inspect", path], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert str(path) in line and "not a regular file" in line


def test_output_cannot_escape_through_a_symlinked_folder(tmp_path: Path) -> None:
    (tmp_path / "in" / "reel").mkdir(parents=True)
    shutil.copyfile(FIXTURES / "images" / "photo.jpg", tmp_path / "in" / "reel" / "a.jpg")
    (tmp_path / "out").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out" / "reel").symlink_to(tmp_path / "elsewhere")
    result = run_cli("stamp", tmp_path / "in", "-r", EXAMPLE_RECORD, "--output", tmp_path / "out")
    assert result.exit_code == 2 and "leads outside" in result.stderr
    assert list((tmp_path / "elsewhere").iterdir()) == []


@pytest.mark.parametrize("key", ["../escape.jpg", "/etc/escape.jpg"])
def test_records_manifest_paths_stay_inside_the_delivery(key: str, tmp_path: Path) -> None:
    manifest = tmp_path / "records.csv"
    manifest.write_text(f"path,ai_used\n{key},true\n")
    result = run_cli("stamp", FIXTURES / "images", "--records", manifest, "--output", tmp_path / "out")
    assert result.exit_code == 2
    assert "must be relative to the delivery" in result.stderr
    assert not (tmp_path / "escape.jpg").exists()
