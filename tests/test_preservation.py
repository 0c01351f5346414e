"""Stamping never changes the pixels and keeps metadata the record does not own."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from aidisclose import inspect_file, load_record, stamp
from aidisclose.carriers.exiv2 import edit_packet
from aidisclose.containers.stills import jpeg_segments, photoshop_resources

from .conftest import EXAMPLE_RECORD, FIXTURES, IMAGE_FIXTURES, exiftool_json, run_cli

JPEG = next(f for f in IMAGE_FIXTURES if f.suffix == ".jpg")
FOREIGN = FIXTURES / "foreign"
#: The IIM datasets the example record writes.
RECORD_IIM = {"IPTC:ObjectName", "IPTC:By-line", "IPTC:CopyrightNotice"}


def decoded_pixels(path: Path) -> tuple[str, tuple[int, int], bytes]:
    with Image.open(path) as image:
        image.load()
        return image.mode, image.size, image.tobytes()


@pytest.mark.parametrize("fixture", IMAGE_FIXTURES, ids=lambda p: p.suffix[1:])
def test_stamp_never_changes_pixels(fixture: Path, tmp_path: Path) -> None:
    assert run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path).exit_code == 0
    stamped = tmp_path / fixture.name
    assert stamped.read_bytes() != fixture.read_bytes()  # metadata was added...
    assert decoded_pixels(stamped) == decoded_pixels(fixture)  # ...and the picture is the same


def test_camera_exif_and_unrelated_xmp_survive(tmp_path: Path) -> None:
    before = exiftool_json(JPEG, "-EXIF:all", "-XMP:CreatorTool", "-XMP:Description")
    assert before["Make"] == "FixtureCam"  # the fixture really has them
    assert run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", tmp_path).exit_code == 0
    after = exiftool_json(tmp_path / JPEG.name, "-EXIF:all", "-XMP:CreatorTool", "-XMP:Description")
    for tag in ("Make", "Model", "DateTimeOriginal", "Software", "CreatorTool", "Description"):
        assert after[tag] == before[tag], tag


def test_restamp_replaces_values_and_clears_our_own_fields(tmp_path: Path) -> None:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    record = load_record(EXAMPLE_RECORD)
    stamp(target, record, in_place=True)
    smaller = record.model_copy(update={"approval_reference": None, "ai_credit_line": "New credit"})
    stamp(target, smaller, in_place=True)
    data = exiftool_json(target, "-XMP:all")
    assert "ApprovalReference" not in data  # our namespace: a field left out is removed
    assert data["AiCreditLine"] == "New credit"  # replaced, not duplicated
    assert data["AISystemUsed"] == "ExampleGen; CrowdClone"


def test_stamp_never_strips_standard_marks_it_does_not_replace(tmp_path: Path) -> None:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    stamp(target, load_record(EXAMPLE_RECORD), in_place=True)
    # A record that says nothing of copyright or creators must not erase them.
    stamp(target, load_record(EXAMPLE_RECORD).model_copy(update={"copyright": None, "creators": []}), in_place=True)
    data = exiftool_json(target, "-XMP:Rights", "-XMP:Creator")
    assert data["Rights"] == "(c) 2026 Example Studio"
    assert data["Creator"] == ["A. Artist", "B. Supervisor"]


def test_stamp_keeps_file_mode(tmp_path: Path) -> None:
    target = tmp_path / JPEG.name
    shutil.copyfile(JPEG, target)
    target.chmod(0o640)
    stamp(target, load_record(EXAMPLE_RECORD), in_place=True)
    assert target.stat().st_mode & 0o777 == 0o640
    assert not list(tmp_path.glob(".*aidisclose-tmp"))


# -- standard properties another tool filled -----------------------------------------------------------


def exiftool_write(path: Path, *assignments: str) -> None:
    subprocess.run(["exiftool", "-q", "-overwrite_original", *assignments, str(path)], check=True)


@pytest.fixture
def agency_jpeg(tmp_path: Path) -> Path:
    """A JPEG an agency filled: its credit line, copyright and photographer, in XMP and IIM."""
    target = tmp_path / "agency" / JPEG.name
    target.parent.mkdir()
    shutil.copyfile(JPEG, target)
    exiftool_write(
        target,
        "-XMP-photoshop:Credit=Agency X", "-IPTC:Credit=Agency X",
        "-XMP-dc:Rights=(c) Agency X", "-IPTC:CopyrightNotice=(c) Agency X",
        "-XMP-dc:Creator=Photog", "-IPTC:By-line=Photog",
    )  # fmt: skip
    return target


STANDARD_TAGS = ("-XMP-photoshop:Credit", "-IPTC:Credit", "-XMP-dc:Rights", "-IPTC:CopyrightNotice",
                 "-XMP-dc:Creator", "-IPTC:By-line", "-XMP-aidisclose:AiCreditLine", "-G1")  # fmt: skip


def test_the_ai_credit_line_leaves_the_general_credit_line_alone(agency_jpeg: Path, tmp_path: Path) -> None:
    record = load_record(EXAMPLE_RECORD)
    result = stamp(agency_jpeg, record, output_dir=tmp_path / "out")
    data = exiftool_json(result.destination, *STANDARD_TAGS)
    assert data["XMP-photoshop:Credit"] == "Agency X"
    assert data["IPTC:Credit"] == "Agency X"
    assert data["XMP-aidisclose:AiCreditLine"] == record.ai_credit_line
    read = inspect_file(result.destination, technical=False)
    assert read.record.ai_credit_line == record.ai_credit_line
    assert read.provenance.sources["ai_credit_line"] == "xmp:Xmp.aidisclose.AiCreditLine"


def test_a_standard_value_another_tool_wrote_is_kept_with_a_note(agency_jpeg: Path, tmp_path: Path) -> None:
    record = load_record(EXAMPLE_RECORD)
    result = stamp(agency_jpeg, record, output_dir=tmp_path / "out")
    data = exiftool_json(result.destination, *STANDARD_TAGS)
    assert data["XMP-dc:Rights"] == "(c) Agency X"
    assert data["IPTC:CopyrightNotice"] == "(c) Agency X"
    assert "kept the existing XMP-dc:rights '(c) Agency X'; pass --replace-standard to replace it" in result.notes
    assert "kept the existing IPTC:Copyright '(c) Agency X'; pass --replace-standard to replace it" in result.notes
    read = inspect_file(result.destination, technical=False)
    assert read.record.to_json_dict() == record.to_json_dict()  # our namespace holds the whole record
    assert {c.other_source for c in read.provenance.conflicts} == {
        "xmp:Xmp.dc.rights", "iptc:Iptc.Application2.Copyright"
    }  # fmt: skip
    # Stamping it again changes nothing: what it kept it would keep again.
    again = stamp(agency_jpeg, record, output_dir=tmp_path / "out")
    assert again.action == "unchanged"

    replaced = stamp(agency_jpeg, record, output_dir=tmp_path / "replaced", replace_standard=True)
    data = exiftool_json(replaced.destination, *STANDARD_TAGS)
    assert data["XMP-dc:Rights"] == data["IPTC:CopyrightNotice"] == record.copyright
    assert data["XMP-photoshop:Credit"] == "Agency X"  # never the record's: nothing to replace
    assert not [n for n in replaced.notes if n.startswith("kept")]
    assert inspect_file(replaced.destination, technical=False).provenance.conflicts == []
    # What a stamp wrote there (it agrees with our namespace) is ours to update, without a note.
    update = stamp(replaced.destination, load_record(EXAMPLE_RECORD, ["copyright=(c) 2027 Studio"]), in_place=True)
    assert update.notes == ()
    data = exiftool_json(replaced.destination, *STANDARD_TAGS)
    assert data["XMP-dc:Rights"] == data["IPTC:CopyrightNotice"] == "(c) 2027 Studio"


def test_the_replace_standard_option_reaches_stamp(agency_jpeg: Path, tmp_path: Path) -> None:
    kept = run_cli("stamp", agency_jpeg, "-r", EXAMPLE_RECORD, "-o", tmp_path / "kept")
    assert kept.exit_code == 0, kept.stderr
    assert "kept the existing XMP-dc:rights '(c) Agency X'" in kept.stderr
    replaced = run_cli("stamp", agency_jpeg, "-r", EXAMPLE_RECORD, "-o", tmp_path / "replaced", "--replace-standard")
    assert replaced.exit_code == 0, replaced.stderr
    assert "kept the existing" not in replaced.stderr
    assert exiftool_json(tmp_path / "replaced" / JPEG.name, "-XMP-dc:Rights")["Rights"] == "(c) 2026 Example Studio"


def test_creator_lists_keep_their_names_and_gain_the_records(agency_jpeg: Path) -> None:
    stamp(agency_jpeg, load_record(EXAMPLE_RECORD), in_place=True)
    data = exiftool_json(agency_jpeg, *STANDARD_TAGS)
    assert data["XMP-dc:Creator"] == data["IPTC:By-line"] == ["Photog", "A. Artist", "B. Supervisor"]
    assert inspect_file(agency_jpeg, technical=False).provenance.conflicts != []  # only the kept copyright
    # A later record without B. Supervisor takes out the name an earlier stamp added, never the agency's.
    stamp(agency_jpeg, load_record(EXAMPLE_RECORD, ["creators.1.name=C. Editor"]), in_place=True)
    data = exiftool_json(agency_jpeg, *STANDARD_TAGS)
    assert data["XMP-dc:Creator"] == data["IPTC:By-line"] == ["Photog", "A. Artist", "C. Editor"]
    read = inspect_file(agency_jpeg, technical=False)
    assert not [c for c in read.provenance.conflicts if c.field == "creators"]


def test_every_exif_entry_of_a_jpeg_is_kept_byte_for_byte(tmp_path: Path) -> None:
    """exiv2 re-encodes Exif when it writes a JPEG and drops IFD0 entries such as PhotometricInterpretation."""
    camera = tmp_path / "camera.jpg"
    shutil.copyfile(JPEG, camera)
    exiftool_write(camera, "-IFD0:PhotometricInterpretation=RGB", "-IFD0:SamplesPerPixel=3")
    before = exiftool_json(camera, "-EXIF:all", "-a", "-G1")
    assert before["IFD0:PhotometricInterpretation"] == "RGB"
    result = stamp(camera, load_record(EXAMPLE_RECORD), output_dir=tmp_path / "out")
    after = exiftool_json(result.destination, "-EXIF:all", "-a", "-G1")
    assert after == {**before, "SourceFile": str(result.destination)}


def test_iim_datasets_the_record_does_not_write_keep_their_bytes(tmp_path: Path) -> None:
    """exiv2 writes the whole IIM block anew: a time that named no zone gained ``+00:00``."""
    source = FOREIGN / "IMG_0003.jpg"  # TimeCreated and DigitalCreationTime stored as HHMMSS
    before = exiftool_json(source, "-IPTC:all", "-a", "-G1")
    assert before["IPTC:TimeCreated"] == "15:41:25"
    result = stamp(source, load_record(EXAMPLE_RECORD), output_dir=tmp_path)
    after = exiftool_json(result.destination, "-IPTC:all", "-a", "-G1")
    assert set(after) - set(before) == RECORD_IIM
    assert {k: v for k, v in after.items() if k not in RECORD_IIM} == {**before, "SourceFile": str(result.destination)}


def test_iim_datasets_of_a_tiff_the_record_does_not_write_keep_their_bytes(tmp_path: Path) -> None:
    """exiv2 rewrites a TIFF's IIM block as it does a JPEG's."""
    app13 = next(s for m, s in jpeg_segments((FOREIGN / "IMG_0003.jpg").read_bytes()) or [] if m == 0xED)
    block = next(data for rid, _, data in photoshop_resources(app13[18:]) or [] if rid == 0x0404)
    (tmp_path / "iim.bin").write_bytes(block)  # its times stored as HHMMSS
    tiff = tmp_path / "plate.tif"
    shutil.copyfile(next(f for f in IMAGE_FIXTURES if f.suffix == ".tif"), tiff)
    exiftool_write(tiff, f"-IFD0:IPTC-NAA<={tmp_path / 'iim.bin'}")
    before = exiftool_json(tiff, "-IPTC:all", "-a", "-G1")
    assert before["IPTC:TimeCreated"] == "15:41:25"
    result = stamp(tiff, load_record(EXAMPLE_RECORD), output_dir=tmp_path / "out")
    after = exiftool_json(result.destination, "-IPTC:all", "-a", "-G1")
    assert set(after) - set(before) == RECORD_IIM
    assert {k: v for k, v in after.items() if k not in RECORD_IIM} == {**before, "SourceFile": str(result.destination)}
    assert decoded_pixels(result.destination) == decoded_pixels(tiff)


def test_a_current_iptc_digest_is_kept_current_and_a_stale_one_stale(tmp_path: Path) -> None:
    """ExifTool warned 'IPTCDigest is not current' on every JPEG whose IIM a stamp changed."""
    digests = ("-Photoshop:IPTCDigest", "-File:CurrentIPTCDigest", "-ExifTool:Warning", "-G1")
    record = load_record(EXAMPLE_RECORD)
    current, stale = FOREIGN / "IMG_0003.jpg", tmp_path / "stale.jpg"
    digest = bytes.fromhex(exiftool_json(current, "-Photoshop:IPTCDigest")["IPTCDigest"])
    stale.write_bytes(current.read_bytes().replace(digest, bytes(range(16))))  # as if another tool left it
    was = {path.name: exiftool_json(path, *digests) for path in (current, stale)}
    assert was[current.name]["Photoshop:IPTCDigest"] == was[current.name]["File:CurrentIPTCDigest"]
    assert was[stale.name]["Photoshop:IPTCDigest"] != was[stale.name]["File:CurrentIPTCDigest"]
    out = tmp_path / "out"
    now = {p.name: exiftool_json(stamp(p, record, output_dir=out).destination, *digests) for p in (current, stale)}
    assert now[current.name]["Photoshop:IPTCDigest"] == now[current.name]["File:CurrentIPTCDigest"]
    assert now[current.name]["File:CurrentIPTCDigest"] != was[current.name]["File:CurrentIPTCDigest"]
    assert "ExifTool:Warning" not in now[current.name]
    assert now[stale.name]["Photoshop:IPTCDigest"] == was[stale.name]["Photoshop:IPTCDigest"]  # still tells of it


ABOUT = "uuid:faf5bdd5-ba3d-11da-ad31-d33d75182f1b"


@pytest.mark.parametrize("fixture", IMAGE_FIXTURES, ids=lambda p: p.suffix[1:])
def test_the_rdf_about_of_an_existing_packet_is_kept(fixture: Path, tmp_path: Path) -> None:
    """exiv2's XMP toolkit writes ``rdf:about=""`` and turns a ``uuid:`` about into an xmpMM:InstanceID."""
    described = tmp_path / fixture.name
    shutil.copyfile(fixture, described)
    exiftool_write(described, f"-XMP-rdf:About={ABOUT}", "-XMP-dc:Subject=kept")
    result = stamp(described, load_record(EXAMPLE_RECORD), output_dir=tmp_path / "out")
    tags = ("-XMP-rdf:About", "-XMP-xmpMM:InstanceID", "-XMP-dc:Subject", "-ExifTool:Warning", "-G1", "-validate")
    after = exiftool_json(result.destination, *tags)
    assert after["XMP-rdf:About"] == ABOUT
    assert after["XMP-dc:Subject"] == "kept"
    assert "XMP-xmpMM:InstanceID" not in after
    assert "ExifTool:Warning" not in after or "CRC" not in str(after["ExifTool:Warning"])
    assert decoded_pixels(result.destination) == decoded_pixels(fixture)


def test_the_rdf_about_of_a_bare_packet_is_kept() -> None:
    """The packets of audio and video files go through the same writer."""
    packet = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        f'<rdf:Description rdf:about="{ABOUT}&amp;&quot;" xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="x"/>'
        '</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()
    edited = edit_packet(packet, "packet", {"xmp": {"Xmp.dc.source": "s"}})
    assert f'rdf:about="{ABOUT}&amp;&quot;"'.encode() in edited
    assert b"InstanceID" not in edited
