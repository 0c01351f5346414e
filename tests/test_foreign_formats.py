"""Formats added through the format table, on files from other projects' test suites (fixtures/foreign/)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import c2pa
import pytest

from aidisclose import inspect_file, load_record, stamp
from aidisclose.carriers.base import WriteMode
from aidisclose.carriers.c2pa.identity import SigningIdentity, make_test_ca
from aidisclose.formats import MediaFormat, detect

from .conftest import EXAMPLE_RECORD, FIXTURES, exiftool_json

FOREIGN = FIXTURES / "foreign"
#: file -> the format it is told to be by its content
EXPECTED = {
    "Stonehenge.heic": MediaFormat.HEIC,
    "sample1.heif": MediaFormat.HEIF,
    "sample1.avif": MediaFormat.AVIF,
    "sample1.gif": MediaFormat.GIF,
    "sample1.jxl": MediaFormat.JXL,
    "test.avi": MediaFormat.AVI,
    "DNG.dng": MediaFormat.DNG,
    "Photoshop.psd": MediaFormat.PSD,
    "48k-2ch-s16-silence.aif": MediaFormat.AIFF,
    "empty.oggflac": MediaFormat.OGG_FLAC,
    "empty.spx": MediaFormat.SPEEX,
}
#: formats whose XMP is in the file itself; the other image formats get a NAME.EXT.xmp sidecar
EMBEDDED_XMP = {"DNG.dng", "Photoshop.psd", "test.avi", "48k-2ch-s16-silence.aif"}
XMP_FORMATS = set(EXPECTED) - {"empty.oggflac", "empty.spx"}  # Ogg carries Vorbis comments, not XMP
by_file = pytest.mark.parametrize("name", sorted(EXPECTED), ids=str)


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> SigningIdentity:
    keys = make_test_ca(tmp_path_factory.mktemp("keys"))
    return SigningIdentity.from_files(keys["chain"], keys["key"])


@by_file
def test_each_new_format_is_told_by_its_content(name: str, tmp_path: Path) -> None:
    renamed = tmp_path / "no-extension"
    shutil.copyfile(FOREIGN / name, renamed)
    assert detect(renamed).format is EXPECTED[name]


@by_file
def test_each_new_format_stamps_and_reads_back(name: str, tmp_path: Path) -> None:
    record = load_record(EXAMPLE_RECORD)
    result = stamp(FOREIGN / name, record, output_dir=tmp_path)
    read = inspect_file(result.destination, technical=False)
    assert read.record.to_json_dict() == record.to_json_dict()
    # The only disagreements are the standard values the file came with, kept and named in a note.
    kept = {c.other_source for c in read.provenance.conflicts}
    assert len(kept) == len([n for n in result.notes if n.startswith("kept the existing")])
    assert all(not source.startswith("xmp:Xmp.aidisclose.") for source in kept)
    assert read.provenance.problems == []
    assert read.format == EXPECTED[name].value


@pytest.mark.parametrize("name", sorted(XMP_FORMATS), ids=str)
def test_exiftool_reads_the_xmp_of_each_new_format(name: str, tmp_path: Path) -> None:
    """Embedded where a maintained library writes the format, else in the NAME.EXT.xmp sidecar."""
    record = load_record(EXAMPLE_RECORD)
    result = stamp(FOREIGN / name, record, output_dir=tmp_path)
    embedded = detect(result.destination).store.write_mode is not WriteMode.SIDECAR
    assert embedded == (name in EMBEDDED_XMP)
    target = result.destination if embedded else result.sidecar
    assert target is not None
    assert exiftool_json(target).get("AiCreditLine") == record.ai_credit_line


def test_exiftool_reads_the_vorbis_comments_of_ogg_flac(tmp_path: Path) -> None:
    record = load_record(EXAMPLE_RECORD)
    result = stamp(FOREIGN / "empty.oggflac", record, output_dir=tmp_path)
    assert exiftool_json(result.destination).get("AidiscloseAiCredit") == record.ai_credit_line


def test_ffprobe_reads_the_vorbis_comments_of_speex(tmp_path: Path) -> None:
    """ExifTool 12.57 does not read Speex comments; ffmpeg's reader is the witness."""
    record = load_record(EXAMPLE_RECORD)
    result = stamp(FOREIGN / "empty.spx", record, output_dir=tmp_path)
    exe = shutil.which("ffprobe")
    assert exe is not None, "ffprobe is not installed; `make test` installs ffmpeg"
    out = subprocess.run(
        [exe, "-v", "error", "-show_entries", "stream_tags", "-of", "json", str(result.destination)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    tags = json.loads(out.stdout)["streams"][0]["tags"]
    assert tags["AIDISCLOSE_AI_CREDIT"] == record.ai_credit_line


@by_file
def test_each_new_format_signs_and_the_c2pa_sdk_validates_it(
    name: str, tmp_path: Path, identity: SigningIdentity
) -> None:
    record = load_record(EXAMPLE_RECORD)
    result = stamp(FOREIGN / name, record, output_dir=tmp_path, signing=identity)
    info = detect(result.destination)
    assert result.manifest is not None
    if info.c2pa_embedded:
        assert result.manifest == result.destination
        reader = c2pa.Reader(str(result.destination))
    else:
        assert result.manifest == result.destination.with_name(result.destination.name + ".c2pa")
        with open(result.destination, "rb") as stream:
            reader = c2pa.Reader(info.manifest_place.mime, stream, manifest_data=result.manifest.read_bytes())
    with reader:
        assert reader.get_validation_state() == "Valid"  # untrusted test CA, but every hash and signature holds
    assert inspect_file(result.destination, technical=False).c2pa.state.holds


def test_a_dng_essence_is_its_raw_data_not_the_preview(tmp_path: Path) -> None:
    """Pillow decodes only a DNG's small preview; a change to the raw image data must be caught."""
    from aidisclose.carriers.exiv2store import pixel_digest, tiff_data_digest
    from aidisclose.containers.tiff import tiff_image_data

    source = FOREIGN / "DNG.dng"
    changed = tmp_path / "changed.dng"
    data = bytearray(source.read_bytes())
    offset, length = tiff_image_data(source)[-1]
    data[offset + length // 2] ^= 0xFF
    changed.write_bytes(bytes(data))
    assert tiff_data_digest(changed) != tiff_data_digest(source)
    assert pixel_digest(changed) == pixel_digest(source)  # why the pixels alone would not do


def test_an_avi_with_data_after_its_first_riff_is_refused_unchanged(tmp_path: Path) -> None:
    """An OpenDML AVI (over 1 GiB) goes on in AVIX lists found by absolute offsets: growing the first breaks them."""
    from aidisclose import DisclosureError

    big = tmp_path / "opendml.avi"
    big.write_bytes((FOREIGN / "test.avi").read_bytes() + b"RIFF\x04\x00\x00\x00AVIX")
    before = big.read_bytes()
    with pytest.raises(DisclosureError, match="after its first RIFF list"):
        stamp(big, load_record(EXAMPLE_RECORD), in_place=True)
    assert big.read_bytes() == before


def test_a_failed_signing_of_a_sidecar_format_leaves_nothing_behind(tmp_path: Path, identity: SigningIdentity) -> None:
    """HEIC's XMP goes to a sidecar and its manifest into the file: if signing fails, neither is written."""
    from dataclasses import replace

    from aidisclose import DisclosureError

    unreachable = replace(identity, tsa_url="http://127.0.0.1:9/")  # no timestamp authority answers there
    out = tmp_path / "out"
    with pytest.raises(DisclosureError, match="C2PA signing failed"):
        stamp(FOREIGN / "Stonehenge.heic", load_record(EXAMPLE_RECORD), output_dir=out, signing=unreachable)
    assert sorted(p.name for p in out.iterdir()) == []


def test_an_mp4_listing_a_heif_brand_is_still_an_mp4(tmp_path: Path) -> None:
    from aidisclose.formats import sniff

    head = bytearray((FIXTURES / "video" / "clip.mp4").read_bytes()[:64])
    head[20:24] = b"msf1"  # a compatible brand; the major brand stays isom
    found = sniff(bytes(head))
    assert found is not None and found.format is MediaFormat.MP4


def test_aiff_c_is_told_by_its_content() -> None:
    from aidisclose.formats import sniff

    head = (FOREIGN / "48k-2ch-s16-silence.aif").read_bytes()[:64]
    found = sniff(head[:8] + b"AIFC" + head[12:])
    assert found is not None and found.format is MediaFormat.AIFF
