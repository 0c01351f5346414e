"""The write path keeps its promises against planted files, links, races, signals and a full disk.

Each test names one way ``stamp`` could lose, overwrite or repurpose a file, and shows it does not.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aidisclose import inspect_file, load_record
from aidisclose.carriers.bmff import check_structure
from aidisclose.formats import detect
from aidisclose.safewrite import JOURNAL_SUFFIX, journal_path

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

CLIP = FIXTURES / "video" / "clip.mp4"  # moov before the media (faststart)
MOV = FIXTURES / "video" / "clip.mov"  # moov after the media
M4V = FIXTURES / "video" / "clip.m4v"  # moov after the media
PHOTO = FIXTURES / "images" / "photo.jpg"
CLI = [str(Path(sys.executable).parent / "aidisclose")]


def _cli(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, stdin=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload, no-any-return]


def _records(folder: Path, count: int) -> list[Path]:
    """Records that differ only in their asset id, all of one length."""
    base = load_record(EXAMPLE_RECORD)
    paths = []
    for n in range(count):
        path = folder / f"record-{n}.json"
        path.write_text(base.model_copy(update={"asset_id": f"RACE-{n:03d}"}).model_dump_json())
        paths.append(path)
    return paths


def _asset_id(path: Path) -> str | None:
    return inspect_file(path, technical=False).record.asset_id


def _plant_journal(target: Path, evil: bytes, **fields: object) -> Path:
    """A journal an attacker leaves beside ``target``: it would put ``evil`` over the file's first bytes."""
    journal = journal_path(target)
    data: dict[str, object] = {"size": len(evil), "ranges": [[0, base64.b64encode(evil).decode()]]}
    data.update(fields)
    journal.write_text(json.dumps(data))
    return journal


# -- planted journals -----------------------------------------------------------


@pytest.mark.parametrize("source", [CLIP, PHOTO], ids=["mp4", "jpeg"])
def test_a_planted_journal_never_touches_a_source_stamped_into_another_folder(source: Path, tmp_path: Path) -> None:
    delivery = tmp_path / "in"
    delivery.mkdir()
    victim = delivery / source.name
    shutil.copyfile(source, victim)
    original = victim.read_bytes()
    _plant_journal(victim, b"EVIL" * 64)
    victim.chmod(0o444)
    result = run_cli("stamp", delivery, "-r", EXAMPLE_RECORD, "-o", tmp_path / "out")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert victim.read_bytes() == original
    stamped = tmp_path / "out" / source.name
    assert not stamped.read_bytes().startswith(b"EVIL")
    assert _asset_id(stamped) == load_record(EXAMPLE_RECORD).asset_id
    assert "left as it is" in " ".join(result.stderr.split())  # the user is told the journal is there


def _journal_fields(target: Path) -> dict[str, object]:
    info = target.stat()
    return {"dev": info.st_dev, "ino": info.st_ino, "uid": os.geteuid(), "final_size": info.st_size}


@pytest.mark.parametrize(
    "case",
    ["old-format", "another-file", "not-our-user", "bytes-do-not-match"],
)
def test_a_journal_that_does_not_record_an_edit_of_this_file_is_refused(case: str, tmp_path: Path) -> None:
    victim = tmp_path / "clip.mp4"
    shutil.copyfile(CLIP, victim)
    original = victim.read_bytes()
    evil = b"EVIL" * 64
    fields: dict[str, object] = {}
    if case != "old-format":
        fields = _journal_fields(victim) | {
            "size": victim.stat().st_size,
            "ranges": [[0, base64.b64encode(evil).decode(), base64.b64encode(evil).decode()]],
        }
    if case == "another-file":
        fields["ino"] = int(str(fields["ino"])) + 1
        fields["ranges"] = [[0, base64.b64encode(evil).decode(), base64.b64encode(original[:256]).decode()]]
    if case == "not-our-user":  # everything matches, but another user wrote it
        fields["ranges"] = [[0, base64.b64encode(evil).decode(), base64.b64encode(original[:256]).decode()]]
    journal = _plant_journal(victim, evil, **fields)
    if case == "not-our-user":
        os.chown(journal, 65534, 65534)
    result = run_cli("stamp", victim, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 2
    assert "rollback journal" in result.stderr and "nothing was changed" in result.stderr
    assert victim.read_bytes() == original
    assert journal.exists()  # the evidence stays for the user to look at


def _die_after_first_write(target: Path, record: Path) -> None:
    child = (
        "import os, sys\n"
        "from aidisclose import load_record, stamp\n"
        "from aidisclose.carriers import bmff\n"
        "real = bmff._apply\n"
        "def once(fd, writes):\n"
        "    real(fd, writes)\n"
        "    os._exit(137)  # killed after the hidden writes, journal in place\n"
        "bmff._apply = once\n"
        "stamp(sys.argv[1], load_record(sys.argv[2]), in_place=True)\n"
    )
    died = subprocess.run([sys.executable, "-c", child, target, record], capture_output=True)
    assert died.returncode == 137, died.stderr


def test_an_interrupted_in_place_edit_is_rolled_back_only_by_an_in_place_stamp(tmp_path: Path) -> None:
    target = tmp_path / "clip.mp4"
    shutil.copyfile(CLIP, target)
    original = target.read_bytes()
    _die_after_first_write(target, EXAMPLE_RECORD)
    assert journal_path(target).exists() and target.read_bytes() != original
    interrupted = target.read_bytes()
    copied = run_cli("stamp", target, "-r", EXAMPLE_RECORD, "--output", tmp_path / "out")
    assert copied.exit_code == 0
    assert target.read_bytes() == interrupted and journal_path(target).exists()  # a source is only read
    result = run_cli("stamp", target, "-r", EXAMPLE_RECORD, "--in-place", "--dry-run")
    assert result.exit_code == 0 and target.read_bytes() == interrupted  # a dry run changes nothing
    result = run_cli("stamp", target, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 0, result.stderr
    assert "rolled back an interrupted in-place edit" in " ".join(result.stderr.split())
    assert not journal_path(target).exists()
    assert _asset_id(target) == load_record(EXAMPLE_RECORD).asset_id


def test_a_journal_of_an_edit_killed_mid_write_still_rolls_back(tmp_path: Path) -> None:
    """A write killed part way leaves new bytes at the start of its range and old ones after: a state of this edit."""
    from aidisclose.safewrite import RollbackJournal

    target = tmp_path / "clip.mp4"
    shutil.copyfile(CLIP, target)
    original = target.read_bytes()
    fd = os.open(target, os.O_RDWR)
    try:
        journal = RollbackJournal(target, fd, [(100, b"N" * 50), (len(original), b"appended")])
        journal.__enter__()
        os.pwrite(fd, b"N" * 20, 100)  # the first write was cut short
        os.pwrite(fd, b"appen", len(original))
    finally:
        os.close(fd)
    result = run_cli("stamp", target, "-r", EXAMPLE_RECORD, "--in-place", "--dry-run")
    assert result.exit_code == 0
    from aidisclose.safewrite import recover

    assert recover(target) == [f"rolled back an interrupted in-place edit of {target.name}"]
    assert target.read_bytes() == original


# -- walking and naming --------------------------------------------------------


def test_an_output_folder_inside_the_input_folder_is_not_walked(tmp_path: Path) -> None:
    nest = tmp_path / "nest"
    nest.mkdir()
    shutil.copyfile(PHOTO, nest / "photo.jpg")
    for _ in range(2):
        result = run_cli("stamp", nest, "-r", EXAMPLE_RECORD, "-o", nest / "out", "--overwrite")
        assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(p.relative_to(nest).as_posix() for p in nest.rglob("*")) == ["out", "out/photo.jpg", "photo.jpg"]
    assert "--output folder" in result.stdout  # listed as skipped, with its reason


def test_a_file_named_twice_or_by_a_hard_link_is_stamped_once(tmp_path: Path) -> None:
    target = tmp_path / "clip.mov"
    shutil.copyfile(MOV, target)
    os.link(target, tmp_path / "same.mov")
    result = _cli("stamp", target, target, tmp_path / "same.mov", "-r", EXAMPLE_RECORD, "--in-place", "--jobs", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum(line.startswith("stamped ") for line in lines) == 1, result.stdout
    assert sum(line.startswith("skipped ") and line.endswith("; stamped once") for line in lines) == 2, lines
    assert _asset_id(tmp_path / "same.mov") == load_record(EXAMPLE_RECORD).asset_id


# -- links ---------------------------------------------------------------------


@pytest.mark.parametrize("source", [PHOTO, CLIP], ids=["rewritten", "edited-in-place"])
def test_in_place_on_a_symlink_stamps_its_target_and_the_link_stays(source: Path, tmp_path: Path) -> None:
    real = tmp_path / "masters" / source.name
    real.parent.mkdir()
    shutil.copyfile(source, real)
    link = tmp_path / f"link{source.suffix}"
    link.symlink_to(real)
    result = run_cli("stamp", link, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and link.resolve() == real
    assert _asset_id(real) == load_record(EXAMPLE_RECORD).asset_id
    assert "symlink" in result.stderr


def test_in_place_on_a_hard_linked_file_that_is_rewritten_is_refused(tmp_path: Path) -> None:
    one = tmp_path / "one.jpg"
    shutil.copyfile(PHOTO, one)
    os.link(one, tmp_path / "two.jpg")
    original = one.read_bytes()
    result = run_cli("stamp", one, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 2
    assert "hard links" in result.stderr and "--output" in result.stderr
    assert one.read_bytes() == original and os.stat(one).st_nlink == 2


def test_in_place_on_a_hard_linked_mp4_stamps_every_name(tmp_path: Path) -> None:
    one = tmp_path / "one.mp4"
    shutil.copyfile(CLIP, one)
    os.link(one, tmp_path / "two.mp4")
    result = run_cli("stamp", one, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 0, result.stderr
    assert _asset_id(tmp_path / "two.mp4") == load_record(EXAMPLE_RECORD).asset_id
    assert os.stat(one).st_nlink == 2


# -- size ----------------------------------------------------------------------


@pytest.mark.parametrize("source", [M4V, MOV], ids=["m4v", "mov"])
def test_re_stamping_a_moov_last_file_stops_growing_after_the_second_stamp(source: Path, tmp_path: Path) -> None:
    target = tmp_path / source.name
    shutil.copyfile(source, target)
    essence = detect(target).store.essence_digest(target)
    records = _records(tmp_path, 6)
    sizes = []
    for record in records:
        result = run_cli("stamp", target, "-r", record, "--in-place")
        assert result.exit_code == 0, result.stderr
        sizes.append(target.stat().st_size)
        assert _asset_id(target) == load_record(record).asset_id
    assert len(set(sizes[1:])) == 1, sizes
    check_structure(target)
    assert detect(target).store.essence_digest(target) == essence
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", str(target)], capture_output=True, text=True)
    assert probe.returncode == 0 and "codec_type=video" in probe.stdout, probe.stderr


# -- a full disk ---------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB file system (tmpfs), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.fail(f"this test mounts a small tmpfs and needs root: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill(disk: Path, leave: int) -> None:
    info = os.statvfs(disk)
    (disk / "filler").write_bytes(b"x" * (info.f_bavail * info.f_frsize - leave))


@pytest.mark.parametrize("source", [M4V, PHOTO], ids=["in-place-edit", "rewrite"])
def test_a_disk_that_fills_up_mid_stamp_leaves_the_old_file(source: Path, small_disk: Path) -> None:
    """Room for the journal (a page), not for the grown file or a whole new copy."""
    target = small_disk / source.name
    shutil.copyfile(source, target)
    original = target.read_bytes()
    _fill(small_disk, 2 * 4096 if source is M4V else 4096)
    result = _cli("stamp", target, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{target}: stamping failed: No space left on device; nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert target.read_bytes() == original
    assert sorted(p.name for p in small_disk.iterdir()) == sorted([source.name, "filler"])


# -- two writers ---------------------------------------------------------------


@pytest.mark.slow
def test_two_processes_stamping_one_mov_in_place_never_leave_a_half_record(tmp_path: Path) -> None:
    """50 rounds of two CLIs racing on one file: each exits 0 having stamped, or 2 having been refused."""
    records = _records(tmp_path, 2)
    wanted = {load_record(r).asset_id for r in records}
    refused = 0
    for round_ in range(50):
        target = tmp_path / f"race{round_:02d}.mov"
        shutil.copyfile(MOV, target)
        racers = [
            subprocess.Popen(
                [*CLI, "stamp", str(target), "-r", str(record), "--in-place"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
            )
            for record in records
        ]
        outcomes = [(p.wait(), p.communicate()) for p in racers]
        codes = [code for code, _ in outcomes]
        assert sorted(set(codes)) in ([0], [0, 2]), outcomes
        for code, (_, err) in outcomes:
            if code == 2:
                refused += 1
                assert "being stamped by another aidisclose process" in err, err
        winners = {load_record(r).asset_id for r, (code, _) in zip(records, outcomes, strict=True) if code == 0}
        assert _asset_id(target) in winners & wanted
        check_structure(target)
        assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(JOURNAL_SUFFIX)]
        target.unlink()


# -- signals -------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(c) for c in text)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_signal_to_the_parent_ends_every_worker(how: signal.Signals, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(400):
        shutil.copyfile(PHOTO, folder / f"shot{n:03d}.jpg")
    parent = subprocess.Popen(
        [*CLI, "stamp", str(folder), "-r", str(EXAMPLE_RECORD), "-o", str(tmp_path / "out"), "--jobs", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _children(parent.pid) if parent.poll() is None else workers
        time.sleep(0.05)
    assert len(workers) >= 2, "the pool never started"
    parent.send_signal(how)
    parent.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert not [w for w in workers if _alive(w)], "workers outlived the run"
    if how == signal.SIGTERM:
        assert parent.returncode == 128 + signal.SIGTERM
        assert not [p.name for p in (tmp_path / "out").rglob(".*")]  # nothing half-written left behind


# -- found by a hostile review -------------------------------------------------


def test_a_last_moov_of_size_zero_beside_a_spare_xmp_slot_is_closed_before_a_moov_is_appended(tmp_path: Path) -> None:
    """A size-0 ("to end of file") moov would swallow a moov appended after it; the XMP going into a slot must not
    skip closing it."""
    data = M4V.read_bytes()
    moov = data.index(b"moov") - 4
    head, tail = data[:moov], data[moov:]
    uuid = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
    spare = struct.pack(">I4s", 8 + 16 + 9000, b"free") + uuid + b" " * 9000  # a retired XMP box
    target = tmp_path / "open.m4v"
    target.write_bytes(head + spare + struct.pack(">I4s", 0, b"moov") + tail[8:])
    result = run_cli("stamp", target, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 0, result.stderr
    assert _asset_id(target) == load_record(EXAMPLE_RECORD).asset_id
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", str(target)], capture_output=True, text=True)
    assert probe.returncode == 0 and "codec_type=video" in probe.stdout, probe.stderr


def test_signing_in_place_a_hard_linked_mp4_is_refused(tmp_path: Path) -> None:
    """Signing rewrites the file (a new inode) even for a format otherwise edited in place."""
    keys = tmp_path / "keys"
    assert run_cli("keys", "init", keys).exit_code == 0
    one = tmp_path / "one.mp4"
    shutil.copyfile(CLIP, one)
    os.link(one, tmp_path / "two.mp4")
    original = one.read_bytes()
    sign = ["--sign", "--sign-cert", keys / "chain.pem", "--sign-key", keys / "key.pem"]
    result = run_cli("stamp", one, "-r", EXAMPLE_RECORD, "--in-place", *sign)
    assert result.exit_code == 2 and "hard links" in result.stderr
    assert one.read_bytes() == original and os.stat(one).st_nlink == 2


def test_a_symlink_loop_named_beside_a_good_file_is_one_error_row(tmp_path: Path) -> None:
    (tmp_path / "loop1.mov").symlink_to(tmp_path / "loop2.mov")
    (tmp_path / "loop2.mov").symlink_to(tmp_path / "loop1.mov")
    good = tmp_path / "good.mov"
    shutil.copyfile(MOV, good)
    result = run_cli("stamp", tmp_path / "loop1.mov", good, "-r", EXAMPLE_RECORD, "--in-place")
    assert result.exit_code == 2
    assert "Traceback" not in result.stderr and "loop1.mov" in result.stderr
    assert _asset_id(good) == load_record(EXAMPLE_RECORD).asset_id


def test_workers_start_whatever_the_interpreters_default_start_method(tmp_path: Path) -> None:
    child = (
        "import multiprocessing as mp\n"
        "mp.set_start_method('forkserver')\n"
        "from aidisclose.batch import imap_in_order\n"
        "print(list(imap_in_order(abs, [-1, -2, -3, -4, -5, -6], jobs=2)))\n"
    )
    run = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout.strip() == "[1, 2, 3, 4, 5, 6]", run.stderr
