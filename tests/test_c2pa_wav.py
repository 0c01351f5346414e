"""A WAV signed by aidisclose itself (``riffsign``): valid for the SDK, its samples and other chunks as they
were, the manifest's C2PA chunk last and alone, an earlier manifest kept as the parent ingredient."""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from pathlib import Path

import c2pa

from aidisclose import inspect_file, load_record, stamp
from aidisclose.carriers.c2pa.identity import SigningIdentity
from aidisclose.carriers.c2pa.riffsign import plain_chunks
from aidisclose.containers.riff import read_form, read_payload

from .conftest import EXAMPLE_RECORD, FIXTURES, exiftool_json, run_cli

TONE = FIXTURES / "audio" / "tone.wav"
DST_URI = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


def _chunks(path: Path) -> dict[bytes, list[bytes]]:
    found: dict[bytes, list[bytes]] = {}
    for chunk in read_form(path).chunks:
        found.setdefault(chunk.fourcc, []).append(read_payload(path, chunk))
    return found


def test_a_signed_wav_validates_with_its_samples_and_chunks_unchanged(
    tmp_path: Path, identity: SigningIdentity, keys: dict[str, Path]
) -> None:
    signed = stamp(TONE, load_record(EXAMPLE_RECORD), output_dir=tmp_path, signing=identity).destination
    with c2pa.Reader(str(signed)) as reader:
        assert reader.get_validation_state() == "Valid"
        results = reader.get_validation_results()["activeManifest"]
    assert [r["code"] for r in results["failure"]] == ["signingCredential.untrusted"]  # the test CA
    assert "assertion.dataHash.match" in [r["code"] for r in results["success"]]
    found = run_cli("inspect", signed, "--trust", keys["ca"], "-f", "json").json()["files"][0]["c2pa"]
    assert found["state"] == "trusted"
    before, after = _chunks(TONE), _chunks(signed)
    assert after[b"data"] == before[b"data"]  # the samples
    assert {k: v for k, v in after.items() if k in (b"fmt ", b"bext", b"iXML", b"zzzz")} == {
        k: v for k, v in before.items() if k in (b"fmt ", b"bext", b"iXML", b"zzzz")
    }
    form = read_form(signed)
    assert [c.fourcc for c in form.chunks].count(b"C2PA") == 1 and form.chunks[-1].fourcc == b"C2PA"
    assert form.end == signed.stat().st_size  # the RIFF size counts the manifest
    exif = exiftool_json(signed, "-a", "-G1")
    assert "ExifTool:Warning" not in exif and "ExifTool:Error" not in exif
    assert exif["XMP-iptcExt:DigitalSourceType"] == DST_URI


def test_restamping_a_signed_wav_keeps_its_manifest_as_parent_in_one_c2pa_chunk(
    tmp_path: Path, identity: SigningIdentity
) -> None:
    first = stamp(TONE, load_record(EXAMPLE_RECORD), output_dir=tmp_path / "one", signing=identity).destination
    earlier = inspect_file(first).c2pa.active_manifest
    again = load_record(EXAMPLE_RECORD, ["asset_id=V2"])
    second = stamp(first, again, output_dir=tmp_path / "two", signing=identity).destination
    found = inspect_file(second).c2pa
    assert found.state == "valid" and found.active_manifest != earlier
    (parent,) = found.ingredients
    assert (parent.title, parent.relationship, parent.active_manifest) == ("tone.wav", "parentOf", earlier)
    assert [c.fourcc for c in read_form(second).chunks].count(b"C2PA") == 1
    assert _chunks(second)[b"data"] == _chunks(TONE)[b"data"]


def test_only_a_plain_riff_wave_is_written_here(tmp_path: Path) -> None:
    """Anything else is left to the SDK's own ``sign_file``, which checks it as it always has."""
    plain = shutil.copyfile(TONE, tmp_path / "plain.wav")
    assert [c.fourcc for c in plain_chunks(plain) or []] == [b"fmt ", b"bext", b"LIST", b"data", b"iXML", b"zzzz"]
    data = TONE.read_bytes()
    trailing = tmp_path / "trailing.wav"
    trailing.write_bytes(data + b"ID3\x04")  # bytes after the RIFF form
    rf64 = tmp_path / "rf64.wav"
    rf64.write_bytes(b"RF64" + data[4:])
    store = b"C2PA" + struct.pack("<I", 4) + b"jumb"
    two = tmp_path / "two.wav"
    two.write_bytes(b"RIFF" + struct.pack("<I", len(data) - 8 + 2 * len(store)) + data[8:] + store + store)
    short = tmp_path / "short.wav"  # the RIFF size says more than the file holds
    short.write_bytes(data[:4] + struct.pack("<I", len(data)) + data[8:])
    for odd in (trailing, rf64, two, short):
        assert plain_chunks(odd) is None, odd.name


def test_a_wav_with_bytes_after_its_riff_form_is_still_signed_by_the_sdk(
    tmp_path: Path, identity: SigningIdentity
) -> None:
    odd = tmp_path / "trailing.wav"
    odd.write_bytes(TONE.read_bytes() + b"ID3\x04\x00\x00\x00\x00\x00\x00")  # an empty ID3 tag after the RIFF
    assert plain_chunks(odd) is None
    signed = stamp(odd, load_record(EXAMPLE_RECORD), output_dir=tmp_path / "out", signing=identity).destination
    assert inspect_file(signed).c2pa.state == "valid"
    assert _chunks(signed)[b"data"] == _chunks(TONE)[b"data"]


def test_a_wav_too_large_once_signed_is_refused_naming_the_file_stamped(tmp_path: Path, keys: dict[str, Path]) -> None:
    """The WAV is signed from stamp's temporary copy; a refusal names the user's file and leaves it as it was.

    Run in a fresh interpreter: the signing helper process is started once per process, before a patch here.
    """
    wav = tmp_path / "take.wav"
    shutil.copyfile(TONE, wav)
    before = wav.read_bytes()
    script = (
        "import sys\n"
        "from aidisclose.carriers.c2pa import riffsign\n"
        "riffsign._MAX_RIFF = 1000  # stands for a WAV whose signed copy passes 4 GiB\n"
        "from aidisclose.cli import main\n"
        "sys.argv[0] = 'aidisclose'\n"
        "main()\n"
    )
    sign = ["--sign", "--sign-cert", str(keys["chain"]), "--sign-key", str(keys["key"])]
    done = subprocess.run(
        [sys.executable, "-c", script, "stamp", str(wav), "-r", str(EXAMPLE_RECORD), "--in-place", *sign],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    (line,) = [x for x in done.stderr.splitlines() if "error" in x]
    assert f"{wav}: is too large for a RIFF WAV once signed" in line and "aidisclose-tmp" not in line
    assert wav.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["take.wav"]
