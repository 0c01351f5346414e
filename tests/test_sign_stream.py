"""Signing an MP4/MOV reads the original once: the SDK is given the stamped bytes without an unsigned copy.

``PatchedSource`` (the original with the store's planned writes laid over it) must read exactly as the
unsigned copy that ``store.write`` makes would; the signed file keeps every chunk hash in its manifest,
so no Merkle proof boxes (and no extra pass of the SDK over the file) are added after the media.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aidisclose import load_record, stamp
from aidisclose.carriers.base import MetadataStore, hash_ranges, same_ranges
from aidisclose.carriers.bmff import XMP_UUID, BmffStore, top_level_boxes
from aidisclose.carriers.c2pa.signing import PatchedSource
from aidisclose.errors import DisclosureError
from aidisclose.fieldmap import encode_record
from aidisclose.safewrite import replace_atomically

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli, sparse_mp4

VIDEO = FIXTURES / "video"
BMFF = [*(VIDEO / n for n in ("clip.mp4", "clip.mov", "clip.m4v", "fragmented.mp4")), FIXTURES / "audio" / "tone.m4a"]


def _reads_alike(patched: PatchedSource, expected: bytes, seed: int) -> None:
    """Whole, then in random pieces at random places (SEEK_SET, SEEK_CUR, SEEK_END), as ``expected``."""
    assert patched.size == len(expected)
    assert patched.read() == expected
    assert patched.read(10) == b""  # at the end
    pick = random.Random(seed)
    for _ in range(200):
        start = pick.randrange(len(expected) + 16)
        if pick.random() < 0.5:
            patched.seek(start)
        else:
            patched.seek(start - len(expected), os.SEEK_END)
            patched.seek(0, os.SEEK_CUR)
        length = pick.choice([1, 7, 4096, 16384, pick.randrange(1, 70000)])
        buffer = bytearray(length)
        count = patched.readinto(buffer)
        assert bytes(buffer[:count]) == expected[start : start + length]
        assert patched.tell() == start + count


def _stamped_before(source: Path, tmp_path: Path, times: int) -> Path:
    """``source`` stamped in place ``times`` times: a retired XMP slot (and moov) the next stamp reuses."""
    target = tmp_path / f"earlier-{source.name}"
    shutil.copyfile(source, target)
    record = load_record(EXAMPLE_RECORD)
    for step in range(times):
        stamp(target, record.model_copy(update={"asset_id": f"EARLIER{step}"}), in_place=True)
    return target


@pytest.mark.parametrize("earlier", [0, 2], ids=["fresh", "restamped"])
@pytest.mark.parametrize("fixture", BMFF, ids=lambda p: p.name)
def test_patched_source_reads_as_the_unsigned_copy(fixture: Path, earlier: int, tmp_path: Path) -> None:
    source = _stamped_before(fixture, tmp_path, earlier)
    store = BmffStore()
    changes = encode_record(load_record(EXAMPLE_RECORD), store.writable_carriers(source))
    copy = tmp_path / "unsigned-copy"
    store.write(source, copy, changes)  # the copy the signing path made before
    patches = store.copy_patches(source, changes)
    expected = copy.read_bytes()
    assert patches and expected != source.read_bytes()
    if earlier:  # some writes land inside the original (a reused slot, a retired box's type): laid over its bytes
        assert any(offset < source.stat().st_size for offset, _ in patches)
    with PatchedSource(source, patches) as patched:
        _reads_alike(patched, expected, seed=len(expected))


def test_patched_source_is_a_copy_written_with_pwrite(tmp_path: Path) -> None:
    """Later writes win, a write past the end extends the file, a gap before it reads as zeros."""
    original = tmp_path / "original"
    original.write_bytes(bytes(range(256)) * 40)
    patches = [(5, b"abc"), (6, b"XY"), (10_230, b"tail"), (10_300, b"after a gap"), (0, b"")]
    copy = tmp_path / "copy"
    shutil.copyfile(original, copy)
    fd = os.open(copy, os.O_WRONLY)
    try:
        for offset, data in patches:
            os.pwrite(fd, data, offset)
    finally:
        os.close(fd)
    with PatchedSource(original, patches) as patched:
        _reads_alike(patched, copy.read_bytes(), seed=1)
        with pytest.raises(OSError):
            patched.seek(-1)
        assert patched.seekable() and patched.readable() and not patched.writable()
    with pytest.raises(ValueError):
        PatchedSource(original, [(-1, b"x")])


def test_patched_source_refuses_a_file_that_shrinks(tmp_path: Path) -> None:
    original = tmp_path / "original"
    original.write_bytes(b"x" * 100_000)
    with PatchedSource(original, [(0, b"head")]) as patched:
        os.truncate(original, 10)
        with pytest.raises(OSError, match="shrank"):
            patched.read()


def test_only_a_store_whose_write_is_patches_says_so(tmp_path: Path) -> None:
    assert MetadataStore().copy_patches(tmp_path / "any", {}) is None


def test_signed_mp4_keeps_every_chunk_hash_and_adds_no_proof_boxes(tmp_path: Path, keys: dict[str, Path]) -> None:
    import c2pa

    source = sparse_mp4(tmp_path / "big.mp4", 30 << 20)  # 8 chunks of 4 MiB: more than the SDK's default 5
    out = tmp_path / "out"
    signing = ["--sign", "--sign-cert", keys["chain"], "--sign-key", keys["key"]]
    assert run_cli("stamp", source, "-r", EXAMPLE_RECORD, "-o", out, *signing).exit_code == 0
    signed = out / source.name
    reader = c2pa.Reader.try_create(str(signed))
    assert reader is not None
    report = json.loads(reader.json())
    assert report["validation_state"] == "Valid"
    assertions = report["manifests"][report["active_manifest"]]["assertions"]
    (bmff,) = [a["data"] for a in assertions if a["label"].startswith("c2pa.hash.bmff")]
    (merkle,) = bmff["merkle"]
    assert merkle["count"] == 8 and len(merkle["hashes"]) == 8  # the leaf row itself: nothing to prove
    boxes = top_level_boxes(signed)
    mdat = [b for b in boxes if b.kind == b"mdat"][-1]
    data = signed.read_bytes()
    after = [data[b.payload : b.payload + 16] if b.kind == b"uuid" else b.kind for b in boxes if b.offset > mdat.offset]
    assert after == [XMP_UUID]  # the record's XMP box, and no C2PA proof box (one a chunk by the SDK's default)
    assert json.loads(run_cli("inspect", signed, "-f", "json").stdout)["files"][0]["c2pa"]["state"] == "valid"


@pytest.mark.parametrize("sync_while_verifying", [False, True])
def test_a_failed_check_leaves_nothing_while_the_file_is_flushed(sync_while_verifying: bool, tmp_path: Path) -> None:
    destination = tmp_path / "kept"
    destination.write_bytes(b"old")

    def refuse(temp: Path) -> None:
        assert temp.read_bytes() == b"new"
        raise DisclosureError(destination, "the check failed")

    with pytest.raises(DisclosureError):
        replace_atomically(
            destination, lambda t: t.write_bytes(b"new"), refuse, None, sync_while_verifying=sync_while_verifying
        )
    assert destination.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["kept"]
    size = replace_atomically(
        destination, lambda t: t.write_bytes(b"new"), lambda _t: None, None, sync_while_verifying=sync_while_verifying
    )
    assert size == 3 and destination.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["kept"]


def _sign_in_a_process(source: Path, out: Path, keys: dict[str, Path], **env: str) -> None:
    """``stamp --sign`` of ``source`` into ``out`` in a process of its own with ``env``; the copy must validate."""
    signing = ["--sign", "--sign-cert", str(keys["chain"]), "--sign-key", str(keys["key"])]
    command = [sys.executable, "-c", "from aidisclose.cli import main; main()", "stamp", str(source)]
    done = subprocess.run(
        [*command, "-r", str(EXAMPLE_RECORD), "-o", str(out), *signing],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(run_cli("inspect", out / source.name, "-f", "json").stdout)
    assert report["files"][0]["c2pa"]["state"] == "valid"


def test_an_mp4_under_the_sdk_spool_size_signs_in_flat_memory(tmp_path: Path, keys: dict[str, Path]) -> None:
    """The SDK's scratch copy of a 48 MB MP4 goes to a temp file, not memory: it signs under a 32 MB limit.

    The limit counts from what the helper maps, so the command runs in a process of its own (see test_c2pa_memory).
    """
    source = sparse_mp4(tmp_path / "mid.mp4", 48 << 20)
    _sign_in_a_process(source, tmp_path / "out", keys, AIDISCLOSE_PARSE_MEGABYTES="32")


def test_the_sdk_scratch_copy_is_made_beside_the_signed_file(tmp_path: Path, keys: dict[str, Path]) -> None:
    """Not in TMPDIR, which may be small or memory (tmpfs): a TMPDIR that does not exist changes nothing."""
    source = sparse_mp4(tmp_path / "mid.mp4", 48 << 20)
    _sign_in_a_process(source, tmp_path / "out", keys, TMPDIR=str(tmp_path / "no"))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["mid.mp4"]  # nothing left beside it


def test_essence_ranges_are_what_the_digest_hashes() -> None:
    store = BmffStore()
    for fixture in BMFF:
        ranges = store.essence_ranges(fixture)
        assert ranges and hash_ranges(fixture, ranges, b"bmff-mdat") == store.essence_digest(fixture)
    assert MetadataStore().essence_ranges(BMFF[0]) is None  # a decoded essence (pixels, samples) is hashed


def test_same_ranges_compares_the_bytes_range_by_range(tmp_path: Path) -> None:
    media = os.urandom(3 << 20) + b"end"
    one, other = tmp_path / "one", tmp_path / "other"
    one.write_bytes(b"head" + media + b"tail")
    other.write_bytes(b"a longer head" + media)
    ranges, moved = [(4, 100), (104, len(media) - 100)], [(13, 100), (113, len(media) - 100)]
    assert same_ranges(one, ranges, other, moved)
    assert not same_ranges(one, ranges, other, [(13, len(media))])  # split otherwise: not the same boxes
    changed = bytearray(other.read_bytes())
    changed[13 + len(media) - 2] ^= 1  # one bit, in the last block
    other.write_bytes(bytes(changed))
    assert not same_ranges(one, ranges, other, moved)
    os.truncate(other, 13 + len(media) - 10)  # cut short
    assert not same_ranges(one, ranges, other, moved)
