"""Delivery folders at scale: walking, parallel runs, dry runs, resuming, watching, credits."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aidisclose import load_record, stamp
from aidisclose.batch import CHUNK_BYTES, CHUNK_FILES, WalkOptions, _chunks, imap_in_order, walk

from .conftest import EXAMPLE_RECORD, FIXTURES, ctrl_c_reaches_it, run_cli, snapshot

AIDISCLOSE = Path(sys.executable).with_name("aidisclose")
SOURCES = [FIXTURES / "images" / "photo.jpg", FIXTURES / "images" / "overlay.png", FIXTURES / "audio" / "tone.wav"]


def make_tree(root: Path, count: int = 200) -> dict[str, int]:
    """``count`` media files in nested folders, half stamped; plus corrupt files, a link loop, a FIFO."""
    stamped = root / ".stamped"
    for source in SOURCES:
        stamp(source, load_record(EXAMPLE_RECORD), output_dir=stamped)
    for index in range(count):
        source = SOURCES[index % len(SOURCES)]
        origin = stamped / source.name if index % 2 == 0 else source
        folder = root / f"reel{index % 4}" / f"shot{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, folder / f"{index:03d}{source.suffix}")
    for index in range(3):  # corrupt: truncated JPEGs
        (root / "reel0" / f"broken{index}.jpg").write_bytes(SOURCES[0].read_bytes()[:300])
    (root / "reel1" / "loop").symlink_to(root)  # a link loop
    (root / "reel1" / "dangling.jpg").symlink_to(root / "nowhere.jpg")
    os.mkfifo(root / "reel2" / "pipe.wav")
    (root / "README.txt").write_text("not media\n")
    return {"passed": count // 2, "failed": count - count // 2, "errors": 3}


def test_tree_with_bad_files_checks_to_completion(tmp_path: Path) -> None:
    expected = make_tree(tmp_path)
    result = run_cli("check", tmp_path, "--format", "json", "--jobs", "2")
    assert result.exit_code == 2  # unreadable files win over policy failures
    summary = result.json()["summary"]
    assert (summary["passed"], summary["failed"], summary["errors"]) == (
        expected["passed"],
        expected["failed"],
        expected["errors"],
    )
    reasons = {Path(f["path"]).name: f["reason"] for f in result.json()["files"] if f["verdict"] == "skipped"}
    assert "not followed" in reasons["loop"] and "not followed" in reasons["dangling.jpg"]
    assert "FIFO" in reasons["pipe.wav"] and "not JPEG" in reasons["README.txt"]


def test_following_symlinks_detects_the_loop(tmp_path: Path) -> None:
    make_tree(tmp_path, count=12)
    items = list(walk([tmp_path], WalkOptions(follow_symlinks=True)))
    assert any(i.skip and "loop" in i.skip for i in items)
    assert len(items) < 100  # the loop was not walked round and round


def test_jobs_do_not_change_the_report(tmp_path: Path) -> None:
    make_tree(tmp_path, count=40)

    def report(jobs: str) -> list[object]:
        data = run_cli("check", tmp_path, "-f", "json", "--jobs", jobs).json()
        return data["files"]

    assert report("1") == report("2")


def test_small_files_travel_in_chunks_and_a_large_one_alone() -> None:
    sizes = [100] * 40 + [CHUNK_BYTES * 3] + [100] * 5
    chunks = list(_chunks(sizes, lambda size: size))
    assert [item for chunk in chunks for item in chunk] == sizes  # nothing lost, order kept
    assert [len(c) for c in chunks] == [CHUNK_FILES, CHUNK_FILES, 40 - 2 * CHUNK_FILES + 1, 5]
    assert chunks[2][-1] == CHUNK_BYTES * 3  # the large file closes its chunk; the next starts fresh
    assert all(len(c) == 1 for c in _chunks(range(5), None))  # without sizes, one item per hand-over


def test_parallel_results_come_in_input_order() -> None:
    items = list(range(100))
    assert list(imap_in_order(abs, items, jobs=2, size_of=lambda i: i * 200_000)) == items


def test_include_and_exclude(tmp_path: Path) -> None:
    make_tree(tmp_path, count=12)
    only_wav = [i.path.name for i in walk([tmp_path], WalkOptions(include=("*.wav",))) if not i.skip]
    assert only_wav and all(name.endswith(".wav") for name in only_wav)
    no_reel0 = [i.path for i in walk([tmp_path], WalkOptions(exclude=("reel0/*",)))]
    assert not any("reel0" in p.parts for p in no_reel0)


def test_dry_run_changes_no_byte(tmp_path: Path) -> None:
    make_tree(tmp_path, count=20)
    before = {p: snapshot(p) for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()}
    result = run_cli("stamp", tmp_path, "-r", EXAMPLE_RECORD, "--in-place", "--dry-run", "-j", "1")
    assert "would stamp" in result.stdout and "unchanged" in result.stdout
    after = {p: snapshot(p) for p in tmp_path.rglob("*") if p.is_file() and not p.is_symlink()}
    assert after == before
    assert not (tmp_path / "out").exists()


def test_stamp_mirrors_the_tree_and_reruns_change_nothing(tmp_path: Path) -> None:
    source = tmp_path / "delivery"
    for index, media in enumerate(SOURCES):
        (source / f"d{index}").mkdir(parents=True)
        shutil.copyfile(media, source / f"d{index}" / media.name)
    out = tmp_path / "out"
    first = run_cli("stamp", source, "-r", EXAMPLE_RECORD, "-o", out, "-f", "json")
    assert first.exit_code == 0
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        f"d{i}/{m.name}" for i, m in enumerate(SOURCES)
    ]
    second = run_cli("stamp", source, "-r", EXAMPLE_RECORD, "-o", out, "-f", "json").json()
    assert {s["action"] for s in second["stamped"]} == {"unchanged"}


def test_interrupted_stamp_run_resumes(tmp_path: Path) -> None:
    make_tree(tmp_path / "delivery", count=60)
    out = tmp_path / "out"
    cmd = [str(AIDISCLOSE), "stamp", str(tmp_path / "delivery"), "-r", str(EXAMPLE_RECORD), "-o", str(out), "-j", "1"]
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(out.rglob("*.*"))) < 10:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    done_before = {p for p in out.rglob("*") if p.is_file() and not p.name.startswith(".")}
    assert 0 < len(done_before) < 60
    resumed = subprocess.run([*cmd, "-f", "json"], capture_output=True, text=True)
    report = json.loads(resumed.stdout)
    actions = [s["action"] for s in report["stamped"]]
    assert actions.count("unchanged") >= len(done_before) - 1  # all but, at most, the one being written
    assert len(report["stamped"]) == 60 and resumed.returncode == 2  # the 3 corrupt files stay errors
    check = run_cli("check", out, "-f", "json").json()["summary"]
    assert check["passed"] == 60


def test_watch_picks_up_a_file_copied_in_slowly(tmp_path: Path) -> None:
    watched, reports = tmp_path / "incoming", tmp_path / "reports"
    watched.mkdir()
    cmd = [str(AIDISCLOSE), "watch", str(watched), "--report", str(reports), "--settle", "0.5"]
    child = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=ctrl_c_reaches_it
    )
    try:
        assert child.stderr is not None
        assert child.stderr.readline().startswith("watching")  # printed once the observer runs
        stamped = stamp(SOURCES[0], load_record(EXAMPLE_RECORD), output_dir=tmp_path / "s").destination
        data = stamped.read_bytes()
        with open(watched / "arriving.jpg", "wb") as handle:  # 1 KB at a time over about a second
            for offset in range(0, len(data), 1024):
                handle.write(data[offset : offset + 1024])
                handle.flush()
                time.sleep(0.1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list(reports.glob("*.json")):
            time.sleep(0.2)
    finally:
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=20)
    (report_file,) = reports.glob("arriving.jpg.*.json")  # one report: the half-written file was not read
    report = json.loads(report_file.read_text())
    assert report["files"][0]["verdict"] == "pass"
    assert child.returncode == 0, err
    assert "PASS" in out


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_watch_stops_cleanly(stop_signal: signal.Signals, tmp_path: Path) -> None:
    child = subprocess.Popen(
        [str(AIDISCLOSE), "watch", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_reaches_it,
    )
    assert child.stderr is not None
    started = child.stderr.readline()  # the watcher is up (however loaded the machine), then a moment more
    assert started.startswith("watching"), started
    time.sleep(0.5)
    child.send_signal(stop_signal)
    _, err = child.communicate(timeout=20)
    assert child.returncode == 0 and "stopped" in err, err


def test_credits_deduplicate_across_formats(tmp_path: Path) -> None:
    for media in SOURCES:
        stamp(media, load_record(EXAMPLE_RECORD), output_dir=tmp_path)
    other = load_record(EXAMPLE_RECORD, ["ai_credit_line=Score: Tunesmith", "ai_systems.0.version=4.3"])
    stamp(FIXTURES / "audio" / "tone.flac", other, output_dir=tmp_path)
    credits = run_cli("credits", tmp_path, "-f", "json").json()
    lines = {c["text"]: len(c["files"]) for c in credits["credit_lines"]}
    assert lines == {"Sky plate: ExampleGen": 3, "Score: Tunesmith": 1}
    systems = {s["name"]: s for s in credits["systems"]}
    assert set(systems) == {"ExampleGen", "CrowdClone"}
    assert systems["ExampleGen"]["versions"] == ["4.2", "4.3"] and len(systems["ExampleGen"]["files"]) == 4
    text = run_cli("credits", tmp_path).stdout
    assert text.count("ExampleGen 4.2, 4.3 (Example AI Inc.)") == 1


@pytest.mark.parametrize("command", ["inspect", "check"])
def test_folder_commands_skip_non_media_quietly(command: str, tmp_path: Path) -> None:
    shutil.copyfile(SOURCES[0], tmp_path / "a.jpg")
    (tmp_path / "notes.txt").write_text("hello")
    result = run_cli(command, tmp_path, "-f", "json")
    assert result.exit_code in (0, 1)
    named = run_cli(command, tmp_path / "notes.txt", "-f", "json")
    assert named.exit_code == 2
