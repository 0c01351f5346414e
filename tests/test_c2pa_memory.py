"""The C2PA SDK runs under the memory limit: a file too large for it is refused in one line, the batch goes on.

A WAV is signed in fixed memory (``riffsign``: aidisclose writes the file, the SDK signs its hash), but
the SDK still holds the data chunk (up to 256 MB) while it validates one, and the WAV signed is read
back, so the tests set ``AIDISCLOSE_PARSE_MEGABYTES`` around what reading a 48 MB WAV needs, keeping it
above what the bundled fixtures need. The command runs in a process of its own: the limit counts from
what the process maps, and a test process maps free heap a helper could use.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import c2pa

from aidisclose.containers.riff import read_form, read_payload

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli, snapshot, sparse_mp4

LIMIT = "32"  # MB: plenty for a small file, not for the SDK holding a 48 MB WAV while it reads it
#: MB: enough to read a 48 MB WAV back, not the 140 MB and more that signing it through ``sign_file`` took
SIGNING_LIMIT = "96"
BIG = 48 << 20


def _big_wav(path: Path) -> Path:
    """A valid 16-bit stereo WAV with ``BIG`` bytes of silence (sparse on disk)."""
    header = b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, 48000, 192000, 4, 16) + b"data" + struct.pack("<I", BIG)
    with open(path, "wb") as out:
        out.write(b"RIFF" + struct.pack("<I", len(header) + BIG) + header)
        out.truncate(out.tell() + BIG)
    return path


def _cli(megabytes: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from aidisclose.cli import main; main()", *map(str, args)],
        env={**os.environ, "AIDISCLOSE_PARSE_MEGABYTES": megabytes},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _sign_args(keys: dict[str, Path]) -> list[str | Path]:
    return ["-r", EXAMPLE_RECORD, "--sign", "--sign-cert", keys["chain"], "--sign-key", keys["key"]]


def test_signing_a_file_whose_check_is_over_the_memory_limit_is_refused_and_the_batch_goes_on(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """What still needs memory is the SDK validating the signed WAV: the refusal names the file stamped."""
    big = _big_wav(tmp_path / "big.wav")
    small = shutil.copyfile(FIXTURES / "audio" / "tone.wav", tmp_path / "small.wav")
    photo = shutil.copyfile(FIXTURES / "images" / "photo.jpg", tmp_path / "photo.jpg")
    before = {p: snapshot(p) for p in (big, small, photo)}
    result = _cli(LIMIT, "stamp", big, small, photo, "--in-place", *_sign_args(keys))
    assert result.returncode == 2
    refusals = [line for line in result.stderr.splitlines() if "big.wav" in line]
    assert len(refusals) == 1, result.stderr
    assert refusals[0].startswith(f"aidisclose: error: {big}: reading the C2PA manifest"), refusals[0]
    assert f"over the {LIMIT} MB memory limit" in refusals[0] and "AIDISCLOSE_PARSE_MEGABYTES" in refusals[0]
    assert snapshot(big) == before[big]  # nothing changed, nothing left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.wav", "photo.jpg", "small.wav"]
    for other in (small, photo):  # the files after it were signed
        assert snapshot(other) != before[other]
        assert run_cli("inspect", other, "-f", "json").json()["files"][0]["c2pa"]["state"] == "valid"


def _data(path: Path) -> bytes:
    """The samples: the payload of the data chunk."""
    chunk = read_form(path).first(b"data")
    assert chunk is not None
    return read_payload(path, chunk)


def test_a_wav_over_the_limit_sign_file_needed_is_signed_with_its_samples_unchanged(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    big = _big_wav(tmp_path / "big.wav")
    samples = _data(big)
    result = _cli(SIGNING_LIMIT, "stamp", big, "--in-place", *_sign_args(keys))
    assert result.returncode == 0, result.stderr
    with c2pa.Reader(str(big)) as reader:  # the SDK's own reader as a witness
        assert reader.get_validation_state() == "Valid"
        failures = [r["code"] for r in reader.get_validation_results()["activeManifest"]["failure"]]
    assert failures == ["signingCredential.untrusted"]  # the test CA: trusted once given, below
    found = run_cli("inspect", big, "--trust", keys["ca"], "-f", "json").json()["files"][0]["c2pa"]
    assert found["state"] == "trusted", found
    assert _data(big) == samples
    form = read_form(big)
    assert [c.fourcc for c in form.chunks][-1] == b"C2PA"  # last, where the SDK puts it
    assert form.end == big.stat().st_size


def test_reading_a_manifest_over_the_memory_limit_is_an_error_row(tmp_path: Path, keys: dict[str, Path]) -> None:
    big = _big_wav(tmp_path / "big.wav")
    small = shutil.copyfile(FIXTURES / "audio" / "tone.wav", tmp_path / "small.wav")
    assert run_cli("stamp", big, small, "--in-place", *_sign_args(keys)).exit_code == 0  # the default limit
    result = _cli("16", "inspect", big, small, "-f", "json")  # the SDK hashes the 48 MB data chunk in one buffer
    assert result.returncode == 2
    refusals = [line for line in result.stderr.splitlines() if "big.wav" in line]
    assert len(refusals) == 1 and "over the 16 MB memory limit" in refusals[0], result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    assert [e["path"] for e in report["errors"]] == [str(big)]
    assert [(f["path"], f["c2pa"]["state"]) for f in report["files"]] == [(str(small), "valid")]


def test_an_mp4_is_signed_with_its_media_hashed_a_chunk_at_a_time(tmp_path: Path, keys: dict[str, Path]) -> None:
    """The SDK holds one chunk of a Merkle-hashed mdat at a time, not 256 MB buffers (see ``MERKLE_CHUNK_KB``)."""
    import c2pa

    big = sparse_mp4(tmp_path / "big.mp4", BIG)
    assert run_cli("stamp", big, "--in-place", *_sign_args(keys)).exit_code == 0
    reader = c2pa.Reader.try_create(str(big))
    assert reader is not None
    report = json.loads(reader.json())
    assertions = report["manifests"][report["active_manifest"]]["assertions"]
    (bmff,) = [a["data"] for a in assertions if a["label"].startswith("c2pa.hash.bmff")]
    assert [m["count"] for m in bmff["merkle"]] == [13]  # 48 MB and the clip's samples in 4 MiB chunks
    assert json.loads(run_cli("inspect", big, "-f", "json").stdout)["files"][0]["c2pa"]["state"] == "valid"
