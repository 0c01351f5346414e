"""Audio carriers: MP3, WAV/BWF, FLAC, Ogg Vorbis, Opus, M4A."""

from __future__ import annotations

import json
import shutil
import struct
import wave
from pathlib import Path

import pytest
from mutagen import File as MutagenFile
from mutagen.id3 import ID3, TCOM

from aidisclose import inspect_file, load_record, stamp
from aidisclose.record import validate_record

from .conftest import AUDIO_FIXTURES, EXAMPLE_RECORD, exiftool_json, exiftool_lines, pcm_md5, run_cli, snapshot

BY_SUFFIX = {f.suffix: f for f in AUDIO_FIXTURES}
MP3, WAV, FLAC, OGG, OPUS, M4A = (BY_SUFFIX[s] for s in (".mp3", ".wav", ".flac", ".ogg", ".opus", ".m4a"))
DST_URI = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
ids = lambda p: p.suffix[1:]  # noqa: E731


@pytest.fixture
def stamped(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    source: Path = request.param
    result = run_cli("stamp", source, "-r", EXAMPLE_RECORD, "-o", tmp_path)
    assert result.exit_code == 0, result.stderr
    return tmp_path / source.name


@pytest.mark.parametrize("fixture", AUDIO_FIXTURES, ids=ids)
def test_decoded_audio_is_identical(fixture: Path, tmp_path: Path) -> None:
    assert run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path).exit_code == 0
    stamped = tmp_path / fixture.name
    assert stamped.read_bytes() != fixture.read_bytes()
    assert pcm_md5(stamped) == pcm_md5(fixture)


@pytest.mark.parametrize("stamped", [MP3, WAV], ids=ids, indirect=True)
def test_exiftool_reads_xmp_from_id3_priv_and_wav_pmx(stamped: Path) -> None:
    xmp = exiftool_json(stamped, "-XMP:all")
    assert xmp["DigitalSourceType"] == DST_URI
    assert xmp["AISystemUsed"] == "ExampleGen; CrowdClone"


@pytest.mark.parametrize("stamped", [MP3], ids=ids, indirect=True)
def test_exiftool_reads_id3_frames(stamped: Path) -> None:
    lines = exiftool_lines(stamped, "-ID3:all")
    assert "Copyright (c) 2026 Example Studio" in lines
    assert f"UserDefinedText (AIDISCLOSE_DIGITAL_SOURCE_TYPE) {DST_URI}" in lines
    assert "UserDefinedText (AIDISCLOSE_AI_USED) true" in lines
    assert "UserDefinedText (AIDISCLOSE_AI_SYSTEMS) ExampleGen; CrowdClone" in lines
    assert "UserDefinedText (AIDISCLOSE_HUMAN_REVIEW) approved" in lines
    assert "UserDefinedText (comment) keep me" in lines  # the file's own TXXX frame is kept


@pytest.mark.parametrize("stamped", [FLAC, OGG, OPUS], ids=ids, indirect=True)
def test_exiftool_reads_vorbis_comments(stamped: Path) -> None:
    data = exiftool_json(stamped, "-Vorbis:all")
    assert data["AidiscloseDigitalSourceType"] == DST_URI
    assert data["AidiscloseAiSystems"] == "ExampleGen; CrowdClone"
    assert data["Copyright"] == "(c) 2026 Example Studio"
    assert validate_record(json.loads(data["AidiscloseRecord"])) == load_record(EXAMPLE_RECORD)


@pytest.mark.parametrize("stamped", [M4A], ids=ids, indirect=True)
def test_exiftool_reads_mp4_freeform_atoms(stamped: Path) -> None:
    data = exiftool_json(stamped, "-G1", "-iTunes:all", "-ItemList:Copyright")
    assert data["iTunes:DIGITAL_SOURCE_TYPE"] == DST_URI
    assert data["iTunes:AI_USED"] is True
    assert data["iTunes:AI_SYSTEMS"] == "ExampleGen; CrowdClone"
    assert data["ItemList:Copyright"] == "(c) 2026 Example Studio"


# -- what was there before survives, and stamping twice replaces ---------------

KEPT_TAGS = {
    MP3: ("-ID3:Title", "-ID3:Artist", "-ID3:Picture", "-ID3:EncoderSettings"),
    FLAC: ("-Vorbis:Title", "-Vorbis:Artist", "-Vorbis:Comment", "-FLAC:Picture"),
    OGG: ("-Vorbis:Title", "-Vorbis:Artist", "-Vorbis:Description"),
    OPUS: ("-Vorbis:Title", "-Vorbis:Artist", "-Vorbis:Description"),
    M4A: ("-ItemList:Title", "-ItemList:Artist", "-ItemList:Comment", "-ItemList:CoverArt"),
    WAV: ("-RIFF:Title", "-RIFF:Artist", "-RIFF:Comment", "-RIFF:Description", "-XML:all"),
}


@pytest.mark.parametrize("fixture", AUDIO_FIXTURES, ids=ids)
def test_existing_tags_and_cover_art_survive(fixture: Path, tmp_path: Path) -> None:
    before = exiftool_json(fixture, "-b", *KEPT_TAGS[fixture])
    before.pop("SourceFile")
    assert len(before) >= 3  # the fixture really has them (binary ones as base64)
    assert run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path).exit_code == 0
    after = exiftool_json(tmp_path / fixture.name, "-b", *KEPT_TAGS[fixture])
    assert {k: after.get(k) for k in before} == before


def our_entries(path: Path) -> list[str]:
    """Every aidisclose frame, comment, atom or chunk in the file, with repeats."""
    if path.suffix == ".wav":
        return [c.fourcc.decode() for c in riff_chunks(path) if c.fourcc in (b"_PMX", b"LIST")]
    tags = MutagenFile(path).tags
    if path.suffix == ".mp3":
        keys = [":".join(k.split(":")[:2]) for k in tags]  # PRIV keys embed their data
        return [k for k in keys if "AIDISCLOSE" in k or k in ("PRIV:XMP", "TCOP")]
    if path.suffix == ".m4a":
        return [k for k in tags if "aidisclose" in k or k == "cprt"]
    return [k for k, _ in tags if k.upper().startswith("AIDISCLOSE") or k.upper() == "COPYRIGHT"]


@pytest.mark.parametrize("fixture", AUDIO_FIXTURES, ids=ids)
def test_stamping_twice_replaces_not_duplicates(fixture: Path, tmp_path: Path) -> None:
    target = tmp_path / fixture.name
    shutil.copyfile(fixture, target)
    record = load_record(EXAMPLE_RECORD)
    stamp(target, record, in_place=True)
    once = sorted(our_entries(target))
    changed = record.model_copy(update={"ai_credit_line": "Second credit"})
    stamp(target, changed, in_place=True)
    assert sorted(our_entries(target)) == once
    assert inspect_file(target).record == changed


# -- WAV: our RIFF writer ------------------------------------------------------


class RawChunk:
    def __init__(self, fourcc: bytes, size: int) -> None:
        self.fourcc, self.size = fourcc, size


def riff_chunks(path: Path) -> list[RawChunk]:
    """An independent walk of the RIFF chunks, checking sizes and pad bytes add up."""
    data = path.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    chunks, position = [], 12
    while position < len(data):
        fourcc, size = struct.unpack("<4sI", data[position : position + 8])
        chunks.append(RawChunk(fourcc, size))
        position += 8 + size + (size & 1)
    assert position == len(data)
    return chunks


def test_wav_keeps_every_chunk_in_order_and_sizes_add_up(tmp_path: Path) -> None:
    before = [c.fourcc for c in riff_chunks(WAV)]
    assert b"bext" in before and b"iXML" in before and b"zzzz" in before
    stamp(WAV, load_record(EXAMPLE_RECORD), output_dir=tmp_path)
    after = [c.fourcc for c in riff_chunks(tmp_path / WAV.name)]
    assert after == [*before, b"_PMX"]
    with wave.open(str(tmp_path / WAV.name)) as stamped, wave.open(str(WAV)) as original:
        assert stamped.readframes(stamped.getnframes()) == original.readframes(original.getnframes())


def test_wav_odd_length_packet_is_padded(tmp_path: Path) -> None:
    target = tmp_path / WAV.name
    for title in ("a", "ab"):  # one of the two makes an odd-length packet
        shutil.copyfile(WAV, target)
        stamp(target, validate_record({"title": title}), in_place=True)
        riff_chunks(target)  # asserts sizes, pads and the RIFF size
        assert inspect_file(target).record.title == title


def test_rf64_is_refused(tmp_path: Path) -> None:
    rf64 = tmp_path / "big.wav"
    data = WAV.read_bytes()
    rf64.write_bytes(b"RF64" + b"\xff\xff\xff\xff" + data[8:])
    result = run_cli("stamp", rf64, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 2 and "RF64" in result.stderr


# -- composers: a standard frame written only when the record names one --------


def test_composer_frame_only_when_record_names_one_and_keeps_the_composers_there(tmp_path: Path) -> None:
    target = tmp_path / MP3.name
    shutil.copyfile(MP3, target)
    tags = ID3(target)
    tags.add(TCOM(encoding=3, text=["Original Composer"]))
    tags.save()
    stamp(target, load_record(EXAMPLE_RECORD), in_place=True)  # names no composer
    assert ID3(target)["TCOM"].text == ["Original Composer"]
    with_composer = load_record(EXAMPLE_RECORD, ["creators.2.name=New Composer", "creators.2.role=composer"])
    stamp(target, with_composer, in_place=True)
    assert ID3(target)["TCOM"].text == ["Original Composer", "New Composer"]


# -- ID3v2 version: kept, or the one asked for -----------------------------------

COMPOSERS = ["creators.2.name=First Composer", "creators.2.role=composer",
             "creators.3.name=Second Composer", "creators.3.role=composer"]  # fmt: skip


def id3_groups(path: Path) -> set[str]:
    """The ID3v2 versions ExifTool finds in the file (its ``ID3v2_3``/``ID3v2_4`` groups)."""
    return {key.split(":")[0] for key in exiftool_json(path, "-ID3:all", "-G1") if key.startswith("ID3v2")}


def as_id3v24(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    tags = ID3(target)
    tags.save(v2_version=4)
    assert id3_groups(target) == {"ID3v2_4"}
    return target


def test_an_id3v2_tag_keeps_its_version_and_the_record_reads_back(tmp_path: Path) -> None:
    assert id3_groups(MP3) == {"ID3v2_3"}  # the fixture's tag, as many DAWs and players write it
    record = load_record(EXAMPLE_RECORD, COMPOSERS)
    result = stamp(MP3, record, output_dir=tmp_path)
    assert id3_groups(result.destination) == {"ID3v2_3"}
    lines = exiftool_lines(result.destination, "-ID3:all")
    assert "Composer First Composer/Second Composer" in lines  # v2.3 joins a frame's values with '/'
    assert "UserDefinedText (AIDISCLOSE_AI_USED) true" in lines
    assert "UserDefinedText (comment) keep me" in lines
    read = inspect_file(result.destination, technical=False)
    assert read.record.to_json_dict() == record.to_json_dict()
    assert read.provenance.conflicts == [] and read.provenance.problems == []
    # ...and a v2.4 tag stays v2.4.
    v24 = stamp(as_id3v24(MP3, tmp_path / "v24.mp3"), record, output_dir=tmp_path / "out")
    assert id3_groups(v24.destination) == {"ID3v2_4"}


@pytest.mark.parametrize("version", ["3", "4"])
def test_the_id3v2_version_option_forces_one(version: str, tmp_path: Path) -> None:
    sources = {"3": as_id3v24(MP3, tmp_path / "v24.mp3"), "4": MP3}  # each from the other version
    out = tmp_path / "out"
    result = run_cli("stamp", sources[version], "-r", EXAMPLE_RECORD, "-o", out, "--id3v2-version", version)
    assert result.exit_code == 0, result.stderr
    stamped = out / sources[version].name
    assert id3_groups(stamped) == {f"ID3v2_{version}"}
    assert inspect_file(stamped, technical=False).record.to_json_dict() == load_record(EXAMPLE_RECORD).to_json_dict()


@pytest.mark.parametrize("in_place", [True, False])
def test_a_file_that_carries_the_record_in_the_other_id3_version_is_restamped(in_place: bool, tmp_path: Path) -> None:
    """Carrying the record is not enough when the version asked for is another: 'unchanged' would be a lie."""
    source = tmp_path / "a.mp3"
    shutil.copyfile(MP3, source)
    assert run_cli("stamp", source, "-r", EXAMPLE_RECORD, "--in-place", "--id3v2-version", "3").exit_code == 0
    args = ["--in-place"] if in_place else ["-o", tmp_path / "out"]
    result = run_cli("stamp", source, "-r", EXAMPLE_RECORD, *args, "--id3v2-version", "4")
    assert result.exit_code == 0, result.stderr
    assert "unchanged" not in result.stderr + result.stdout
    stamped = source if in_place else tmp_path / "out" / source.name
    assert id3_groups(stamped) == {"ID3v2_4"}
    again = run_cli("stamp", stamped, "-r", EXAMPLE_RECORD, "--in-place", "--id3v2-version", "4")
    assert "unchanged" in again.stderr + again.stdout  # now it does carry it as asked


def test_an_id3v2_version_other_than_3_or_4_is_refused(tmp_path: Path) -> None:
    result = run_cli("stamp", MP3, "-r", EXAMPLE_RECORD, "-o", tmp_path, "--id3v2-version", "2")
    assert result.exit_code == 2
    assert "Invalid value for '--id3v2-version'" in result.stderr
    assert not (tmp_path / MP3.name).exists()


# -- bad input -----------------------------------------------------------------


def truncate(source: Path, keep: float) -> bytes:
    data = source.read_bytes()
    return data[: int(len(data) * keep)]


def lying_riff_chunk(data: bytes) -> bytes:
    index = data.index(b"data")
    return data[: index + 4] + struct.pack("<I", 10_000_000) + data[index + 8 :]


def bogus_id3_size(data: bytes) -> bytes:
    return data[:6] + bytes([0x7F, 0x7F, 0x7F, 0x7F]) + data[10:]


BAD_AUDIO = {
    "truncated.mp3": lambda: truncate(MP3, 0.6),
    "truncated.wav": lambda: truncate(WAV, 0.6),
    "truncated.flac": lambda: truncate(FLAC, 0.6),
    "truncated.ogg": lambda: truncate(OGG, 0.6),
    "truncated.m4a": lambda: truncate(M4A, 0.6),
    "size-lies.wav": lambda: lying_riff_chunk(WAV.read_bytes()),
    "bogus-id3.mp3": lambda: bogus_id3_size(MP3.read_bytes()),
    "empty.mp3": lambda: b"",
    "empty.wav": lambda: b"",
    "empty.flac": lambda: b"",
}


@pytest.mark.parametrize("name", sorted(BAD_AUDIO))
def test_bad_audio_exit_2_one_line_unchanged(name: str, tmp_path: Path) -> None:
    bad = tmp_path / name
    bad.write_bytes(BAD_AUDIO[name]())
    before = snapshot(bad)
    result = run_cli("stamp", bad, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 2, result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert str(bad) in line
    assert snapshot(bad) == before
    assert not list(tmp_path.glob(".*aidisclose-tmp"))
