"""Hot folders: `watch --stamp` stamps what lands, once, across a kill -9; files still being written are never read."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

from aidisclose import load_record, stamp
from aidisclose.errors import DisclosureError
from aidisclose.hotfolder import FAILED, STATE, HotFolder
from aidisclose.plan import RecordLayers, StampOptions
from aidisclose.watch import open_for_writing

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

AIDISCLOSE = Path(sys.executable).with_name("aidisclose")
JPEG, FLAC = FIXTURES / "images" / "photo.jpg", FIXTURES / "audio" / "tone.flac"
WAV, MP4 = FIXTURES / "audio" / "tone.wav", FIXTURES / "video" / "clip.mp4"

#: A child process that copies SOURCE to TARGET in CHUNK-byte writes, pausing PAUSE seconds half-way;
#: with "reopen" it closes the file for the pause and appends the rest afterwards, as a copy resumed.
COPIER = """
import sys, time
source, target, chunk, pause, how = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
data = open(source, "rb").read()
half = len(data) // 2
handle = open(target, "wb")
for offset in range(0, len(data), chunk):
    if offset <= half < offset + chunk:
        if how == "reopen":
            handle.close()
        time.sleep(pause)
        if how == "reopen":
            handle = open(target, "ab")
    handle.write(data[offset : offset + chunk])
    handle.flush()
    time.sleep(0.02)
handle.close()
"""


def copy_slowly(
    pairs: list[tuple[Path, Path]], pause: float = 2.0, how: str = "hold", chunk: int = 4096
) -> subprocess.Popen[bytes]:
    """Copy each pair in turn in a child process (chunks, a pause half-way): as an export lands."""
    script = "; ".join(
        f"subprocess.run([sys.executable, '-c', {COPIER!r}, {str(s)!r}, {str(t)!r}, '{chunk}', '{pause}', '{how}'],"
        " check=True)"
        for s, t in pairs
    )
    return subprocess.Popen([sys.executable, "-c", f"import subprocess, sys; {script}"])


def wait_for(condition: Callable[[], object], seconds: float = 40, every: float = 0.1) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(every)
    assert condition(), "timed out"


def tree_digest(folder: Path, leave_out: Path | None = None) -> dict[str, tuple[str, int]]:
    """Every file under ``folder`` (but ``leave_out``): its SHA-256 and mtime."""
    return {
        p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not (leave_out and p.is_relative_to(leave_out))
    }


def outputs(out: Path) -> set[str]:
    """The stamped copies in ``out`` (neither the failed files nor the watch's state)."""
    return {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and p.relative_to(out).parts[0] not in (FAILED, STATE) and not p.name.startswith(".")
    }


class Watch:
    """`aidisclose watch --stamp` in a child process, its output unbuffered so that a kill loses no line."""

    def __init__(self, *args: str | Path) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.child = subprocess.Popen(
            [str(AIDISCLOSE), "watch", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def stop(self, how: signal.Signals = signal.SIGTERM) -> tuple[str, str]:
        self.child.send_signal(how)
        out, err = self.child.communicate(timeout=30)
        return out, err


@pytest.fixture
def shows(tmp_path: Path) -> Path:
    """A watched folder: a JPEG, a subfolder with its own record and a FLAC, a damaged JPEG."""
    inbox = tmp_path / "exports"
    (inbox / "showB").mkdir(parents=True)
    (inbox / "bad").mkdir()
    shutil.copy2(JPEG, inbox / "photo.jpg")
    shutil.copy2(FLAC, inbox / "showB" / "tone.flac")
    (inbox / "showB" / "aidisclose.toml").write_text('production = "Show B"\n[[creators]]\nname = "B. Artist"\n')
    (inbox / "bad" / "broken.jpg").write_bytes(JPEG.read_bytes()[:300])  # a truncated JPEG
    return inbox


def test_a_hot_folder_killed_mid_way_stamps_every_file_once(shows: Path, tmp_path: Path, keys: dict[str, Path]) -> None:
    out, reports = shows / "stamped", tmp_path / "reports"  # the output inside the watched folder: left out
    before = tree_digest(shows)
    args = [shows, "--stamp", "--record", EXAMPLE_RECORD, "--output", out, "--settle", "0.5"]
    args += ["--sign", "--sign-cert", keys["chain"], "--sign-key", keys["key"]]
    args += ["--policy", "genai-production", "--report", reports]
    first = Watch(*args)
    copier = None
    try:
        # The files already there are done first (three states: two stamped, one failed) ...
        wait_for(lambda: len(list((out / STATE).glob("*.json"))) == 3 or first.child.poll() is not None)
        # ... then two files are copied in slowly; the watch is killed while the first is half-way.
        copier = copy_slowly([(WAV, shows / "showB" / "late.wav"), (MP4, shows / "clip.mp4")])
        wait_for(lambda: (shows / "showB" / "late.wav").exists())
        time.sleep(1.4)  # well past the 0.5 s settle time, inside the copier's 2 s pause
        first_out, first_err = first.stop(signal.SIGKILL)
        assert first.child.returncode == -signal.SIGKILL
        done_before = outputs(out)
        assert done_before == {"photo.jpg", "showB/tone.flac"}, first_err  # the half-copied file was not read
        kept = {name: (out / name).stat().st_ino for name in done_before}
        second = Watch(*args)
        wait_for(lambda: (copier.poll() is not None and len(outputs(out)) == 4) or second.child.poll() is not None)
        time.sleep(1)
        second_out, second_err = second.stop()
    finally:
        for child in (first.child, copier):
            if child is not None and child.poll() is None:
                child.kill()
    assert second.child.returncode == 0, second_err
    lines = (first_out + second_out).splitlines()
    # Every source stamped exactly once over the two runs; the restart left the finished ones alone.
    for name in ("photo.jpg", "showB/tone.flac", "showB/late.wav", "clip.mp4"):
        stamped = [line for line in lines if line.startswith(f"stamped {shows / name} -> {out / name} ")]
        assert len(stamped) == 1, lines
    assert not any(line.startswith("unchanged") for line in lines), lines
    assert {name: (out / name).stat().st_ino for name in done_before} == kept  # never written again
    assert outputs(out) == {"photo.jpg", "showB/tone.flac", "showB/late.wav", "clip.mp4"}
    # Each output is valid: the record (the subfolder's own laid over --record there only), a trusted signature.
    for name in outputs(out):
        found = run_cli("inspect", out / name, "--trust", keys["ca"], "-f", "json").json()["files"][0]
        assert found["c2pa"]["state"] == "trusted", (name, found["c2pa"])
        record = found["record"]
        show = "Show B" if name.startswith("showB/") else "Example Feature"
        assert record["production"] == show and record["title"] == "Shot 010, sky replacement"
        assert ([c["name"] for c in record["creators"]] == ["B. Artist"]) == name.startswith("showB/")
    # One report per stamped file, each a pass.
    written = sorted(reports.glob("*.json"))
    assert len(written) == 4 and all(json.loads(p.read_text())["files"][0]["verdict"] == "pass" for p in written)
    # The damaged file: a copy in _failed with the reason beside it, as one line; the record file not stamped.
    failed = out / FAILED / "bad" / "broken.jpg"
    assert failed.read_bytes() == (shows / "bad" / "broken.jpg").read_bytes()
    (reason,) = (out / FAILED / "bad" / "broken.jpg.txt").read_text().splitlines()
    assert reason.startswith(f"{shows / 'bad' / 'broken.jpg'}: ")
    errors = [line for line in (first_err + second_err).splitlines() if line.startswith("aidisclose: error:")]
    assert errors == [f"aidisclose: error: {reason}"]  # the half-copied file never read: no false failure
    assert not list(out.rglob("aidisclose.toml*")) and not (out / "stamped").exists()
    # Nothing in the watched folder was changed; the copied files are the bytes that were copied.
    after = tree_digest(shows, leave_out=out)
    assert {k: v for k, v in after.items() if k in before} == before
    assert set(after) == set(before) | {"showB/late.wav", "clip.mp4"}
    assert (shows / "clip.mp4").read_bytes() == MP4.read_bytes()


def test_a_restart_does_nothing_when_everything_is_done(shows: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    hostile = os.fsdecode(b"caf\xe9\n\x1b[31m.jpg")  # not UTF-8, a newline, an escape sequence
    shutil.copy2(JPEG, shows / hostile)
    (shows / "bad" / hostile).write_bytes(b"\xff\xd8 not a JPEG")
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out))
    with hot.locked():
        first = [hot.process(path) for path in hot.scan()]
    names = ["broken.jpg", hostile, hostile, "photo.jpg", "tone.flac"]
    assert sorted(a.path.name for a in first if a is not None) == sorted(names)
    (reason,) = (out / FAILED / "bad" / f"{hostile}.txt").read_text(errors="surrogateescape").splitlines()
    assert "\x1b" not in reason and "caf\\udce9 \\x1b[31m.jpg" in reason  # shown as text, on one line
    again = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out))
    assert list(again.scan()) == []  # the done test reads the states only
    assert all(again.process(a.path) is None for a in first if a is not None)


def test_a_failed_file_is_retried_once_it_changes(shows: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out))
    broken = shows / "bad" / "broken.jpg"
    arrival = hot.process(broken)
    assert arrival is not None and arrival.failed_copy == out / FAILED / "bad" / "broken.jpg"
    assert hot.process(broken) is None  # unchanged: not tried again
    shutil.copyfile(JPEG, broken)  # the artist exports it again
    arrival = hot.process(broken)
    assert arrival is not None and arrival.outcome.result is not None, arrival
    assert not (out / FAILED / "bad" / "broken.jpg").exists() and not (out / FAILED / "bad" / "broken.jpg.txt").exists()
    assert run_cli("inspect", out / "bad" / "broken.jpg", "-f", "json").json()["files"][0]["record"]["production"]


def test_a_changed_source_replaces_its_own_output_but_never_someone_elses(shows: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out))
    assert hot.process(shows / "photo.jpg") is not None
    other = load_record(EXAMPLE_RECORD, ["title=Shot 020"])
    shutil.copyfile(stamp(JPEG, other, output_dir=tmp_path / "other").destination, shows / "photo.jpg")
    arrival = hot.process(shows / "photo.jpg")  # re-exported: stamped again over the output this watch wrote
    assert arrival is not None and arrival.outcome.result is not None, arrival
    assert (
        run_cli("inspect", out / "photo.jpg", "-f", "json").json()["files"][0]["record"]["title"]
        == "Shot 010, sky replacement"
    )
    theirs = out / "showB" / "tone.flac"
    theirs.parent.mkdir()
    theirs.write_bytes(b"someone else's file")
    arrival = hot.process(shows / "showB" / "tone.flac")
    assert arrival is not None and arrival.outcome.error and "is not an output of this watch" in arrival.outcome.error
    assert theirs.read_bytes() == b"someone else's file" and arrival.failed_copy is not None


def test_a_bad_folder_record_fails_its_files_naming_its_line(shows: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    (shows / "showB" / "aidisclose.toml").write_text('production = "Show B"\nai_used = "maybe"\n')
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out))
    arrival = hot.process(shows / "showB" / "tone.flac")
    assert arrival is not None and arrival.outcome.error is not None
    assert f"{shows / 'showB' / 'aidisclose.toml'} line 2" in arrival.outcome.error, arrival.outcome.error
    assert (out / FAILED / "showB" / "tone.flac.txt").read_text().strip() == arrival.outcome.error
    assert hot.process(shows / "photo.jpg") is not None and (out / "photo.jpg").exists()  # the others go on
    (shows / "showB" / "aidisclose.toml").write_text('production = "Show B"\n')  # fixed: the file is done again
    arrival = hot.process(shows / "showB" / "tone.flac")
    assert arrival is not None and arrival.outcome.result is not None


def test_a_folder_record_that_is_a_link_or_huge_is_refused(shows: Path, tmp_path: Path) -> None:
    record = shows / "showB" / "aidisclose.toml"
    record.unlink()
    record.symlink_to("/dev/zero")
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(tmp_path / "out"))
    arrival = hot.process(shows / "showB" / "tone.flac")
    assert arrival is not None and arrival.outcome.error and "is a symlink" in arrival.outcome.error
    record.unlink()
    record.write_text("# " + "x" * (2 << 20) + "\n")
    arrival = hot.process(shows / "showB" / "tone.flac")
    assert arrival is not None and arrival.outcome.error and "larger than" in arrival.outcome.error


def test_two_watches_cannot_write_into_one_output(shows: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first, second = (HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out)) for _ in range(2))
    refused = pytest.raises(DisclosureError, match="another aidisclose watch writes into this folder")
    with first.locked(), refused, second.locked():
        pass


def test_a_file_open_for_writing_is_told_apart(tmp_path: Path) -> None:
    path = tmp_path / "arriving.wav"
    with open(path, "wb") as handle:
        handle.write(b"RIFF")
        assert open_for_writing(path) is True
    assert open_for_writing(path) is False


def _watch_reports(watched: Path, reports: Path, *extra: str) -> subprocess.Popen[str]:
    cmd = [str(AIDISCLOSE), "watch", str(watched), "--report", str(reports), *extra]
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stderr is not None and child.stderr.readline().startswith("watching")  # the observer is up
    return child


def test_a_copy_that_pauses_while_open_is_read_once_it_is_closed(tmp_path: Path) -> None:
    watched, reports = tmp_path / "incoming", tmp_path / "reports"
    watched.mkdir()
    stamped = stamp(WAV, load_record(EXAMPLE_RECORD), output_dir=tmp_path / "s").destination
    child = _watch_reports(watched, reports, "--settle", "0.3")  # far shorter than the pause
    try:
        copy_slowly([(stamped, watched / "mix.wav")], pause=2.0, how="hold").wait(timeout=30)
        wait_for(lambda: list(reports.glob("*.json")))
        time.sleep(1)
    finally:
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=20)
    (report,) = reports.glob("mix.wav.*.json")  # one report: the half-written file was never read
    assert json.loads(report.read_text())["files"][0]["verdict"] == "pass", out


def _ten_mb_wav(path: Path, megabytes: int = 10) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(48000)
        for _ in range(megabytes):
            out.writeframes(bytes(1 << 20))
    return path


@pytest.mark.slow
def test_the_default_settle_time_outlasts_a_copy_that_stops_for_two_seconds(tmp_path: Path) -> None:
    watched, reports = tmp_path / "incoming", tmp_path / "reports"
    watched.mkdir()
    source = _ten_mb_wav(tmp_path / "long.wav")
    stamped = stamp(source, load_record(EXAMPLE_RECORD), output_dir=tmp_path / "s").destination
    child = _watch_reports(watched, reports)  # the default --settle
    try:
        # The copy is closed during its pause (a resumed transfer): only the settle time holds the file back.
        copy_slowly([(stamped, watched / "long.wav")], pause=2.0, how="reopen", chunk=256 << 10).wait(timeout=60)
        wait_for(lambda: list(reports.glob("*.json")))
        time.sleep(1)
    finally:
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=20)
    (report,) = reports.glob("long.wav.*.json")  # no false ERROR for the half copy, then a PASS
    assert json.loads(report.read_text())["files"][0]["verdict"] == "pass", out


def _production(path: Path) -> object:
    return run_cli("inspect", path, "-f", "json").json()["files"][0]["record"].get("production")


def test_a_watch_follows_an_edited_folder_record_and_a_folder_moved_in(shows: Path, tmp_path: Path) -> None:
    out = tmp_path / "stamped"
    (shows / "take2.jpg.part").write_bytes(JPEG.read_bytes()[:500])  # an exporter's file, not yet renamed
    watch = Watch(
        shows, "--stamp", "--record", EXAMPLE_RECORD, "--output", out, "--settle", "0.3", "--exclude", "*.part"
    )
    try:
        wait_for(lambda: len(list((out / STATE).glob("*.json"))) == 3 or watch.child.poll() is not None)
        photo = (out / "photo.jpg").stat().st_ino
        (shows / "showB" / "aidisclose.toml").write_text('production = "Show C"\n')  # the show is renamed
        reel = tmp_path / "reel2"
        reel.mkdir()
        shutil.copy2(JPEG, reel / "shot.jpg")
        reel.rename(shows / "reel2")  # a whole folder moved in: no event for its file of its own
        (shows / "reel2" / "take3.jpg.part").write_bytes(JPEG.read_bytes()[:500])
        wait_for(lambda: (out / "reel2" / "shot.jpg").exists() and _production(out / "showB" / "tone.flac") == "Show C")
        time.sleep(0.5)
    finally:
        stdout, stderr = watch.stop()
    assert watch.child.returncode == 0, stderr
    assert (out / "photo.jpg").stat().st_ino == photo  # a file outside that folder is left alone
    assert _production(out / "reel2" / "shot.jpg") == "Example Feature"
    assert stdout.count(f"stamped {shows / 'showB' / 'tone.flac'} ") == 2, stdout
    assert not list(out.rglob("*.part*")) and ".part" not in stdout + stderr  # --exclude: neither stamped nor failed


def test_an_output_folder_that_holds_the_watched_folder_is_refused(tmp_path: Path) -> None:
    inbox = tmp_path / "exports"
    inbox.mkdir()
    done = run_cli("watch", inbox, "--stamp", "--record", EXAMPLE_RECORD, "--output", tmp_path)
    assert done.exit_code == 2 and done.stderr.startswith(f"aidisclose: error: {tmp_path}: is the watched folder")
    assert list(inbox.iterdir()) == []


def test_a_watch_killed_while_it_writes_leaves_no_half_output(tmp_path: Path) -> None:
    inbox, out = tmp_path / "exports", tmp_path / "stamped"
    inbox.mkdir()
    _ten_mb_wav(inbox / "long.wav", 256)  # a copy long enough to be caught while it is written
    args = [inbox, "--stamp", "--record", EXAMPLE_RECORD, "--output", out, "--settle", "0.2"]
    first = Watch(*args)
    try:
        writing = lambda: list(out.glob(".long.wav.*.aidisclose-tmp"))  # noqa: E731
        wait_for(lambda: writing() or (out / "long.wav").exists() or first.child.poll() is not None, 60, 0.005)
        assert writing(), "the stamp was not caught while it wrote its copy"
        first.stop(signal.SIGKILL)  # while the stamped copy is being written
    finally:
        if first.child.poll() is None:
            first.child.kill()
    assert first.child.returncode == -signal.SIGKILL
    assert not (out / "long.wav").exists()  # only the temp file, never a half-written output under its name
    (temp,) = out.glob(".long.wav.*.aidisclose-tmp")
    second = Watch(*args)
    try:
        wait_for(lambda: len(list((out / STATE).glob("*.json"))) == 1 or second.child.poll() is not None, seconds=60)
    finally:
        stdout, stderr = second.stop()
    assert f"stamped {inbox / 'long.wav'} -> {out / 'long.wav'} " in stdout, stderr
    assert f"removed the temp file {temp.name} of an interrupted run" in stderr  # told as a note
    assert not temp.exists() and _production(out / "long.wav") == "Example Feature"


def test_a_files_row_of_records_and_set_are_laid_over_its_folders_record(shows: Path, tmp_path: Path) -> None:
    manifest = tmp_path / "shots.csv"
    manifest.write_text("path,production,asset_id\nshowB/tone.flac,Show B (director's cut),B-001\n")
    layers = RecordLayers.load(EXAMPLE_RECORD, manifest, ["approval_reference=APPROVAL-7"])
    hot = HotFolder(shows, layers, StampOptions(tmp_path / "out"))
    for name in ("showB/tone.flac", "photo.jpg"):
        arrival = hot.process(shows / name)
        assert arrival is not None and arrival.outcome.result is not None, arrival
    flac = run_cli("inspect", tmp_path / "out" / "showB" / "tone.flac", "-f", "json").json()["files"][0]["record"]
    assert (flac["production"], flac["asset_id"]) == ("Show B (director's cut)", "B-001")
    assert [c["name"] for c in flac["creators"]] == ["B. Artist"] and flac["approval_reference"] == "APPROVAL-7"
    photo = run_cli("inspect", tmp_path / "out" / "photo.jpg", "-f", "json").json()["files"][0]["record"]
    assert (photo["production"], photo["asset_id"], photo["approval_reference"]) == (
        "Example Feature",
        "SHOT010_V003",
        "APPROVAL-7",
    )


def test_a_fifo_that_lands_is_told_and_never_opened(shows: Path, tmp_path: Path) -> None:
    os.mkfifo(shows / "pipe.wav")  # opening it to read would wait for a writer forever
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(tmp_path / "out"))

    class Hung(BaseException):  # not an Exception: nothing on the way may take it for a read error
        pass

    def hung(_number: int, _frame: object) -> None:
        raise Hung("the FIFO was opened")

    earlier = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)  # a hang fails the test instead of stalling the run
    try:
        arrival = hot.process(shows / "pipe.wav")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, earlier)
    assert arrival is not None and arrival.outcome.skipped and "not a regular file" in arrival.outcome.skipped
    assert not (tmp_path / "out" / FAILED).exists()


def test_a_sidecar_format_killed_between_its_media_and_its_sidecar_is_stamped_on_restart(tmp_path: Path) -> None:
    inbox, out = tmp_path / "exports", tmp_path / "stamped"
    inbox.mkdir()
    shutil.copy2(FIXTURES / "video" / "clip.mkv", inbox / "clip.mkv")
    out.mkdir()
    shutil.copy2(inbox / "clip.mkv", out / "clip.mkv")  # the media copied, the watch killed before the XMP
    hot = HotFolder(inbox, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out))
    arrival = hot.process(inbox / "clip.mkv")
    assert arrival is not None and arrival.outcome.result is not None, arrival
    assert (out / "clip.mkv.xmp").exists() and _production(out / "clip.mkv") == "Example Feature"
    assert not (out / FAILED).exists()


UNREADABLE_RUN = """
import json, os, sys
from pathlib import Path
from aidisclose.hotfolder import HotFolder
from aidisclose.plan import RecordLayers, StampOptions
inbox, out, record = map(Path, sys.argv[1:4])
told = []
for run in range(2):  # the second scan stands for every rescan of a watch that runs for days
    hot = HotFolder(inbox, RecordLayers.load(record), StampOptions(out))
    told += [a.outcome.error for a in map(hot.process, hot.scan()) if a is not None]
print(json.dumps(told))
"""


def test_a_file_that_cannot_be_read_leaves_its_reason_in_failed_and_is_not_retried_until_it_changes(
    shows: Path, tmp_path: Path
) -> None:
    locked = shows / "locked.jpg"
    shutil.copy2(JPEG, locked)
    locked.chmod(0)
    out = tmp_path / "out"
    command = [sys.executable, "-c", UNREADABLE_RUN, str(shows), str(out), str(EXAMPLE_RECORD)]
    if os.geteuid() == 0:  # root reads any file: without the capabilities that let it, as a user would
        if shutil.which("setpriv") is None:
            pytest.fail("setpriv (util-linux) is needed to run this test as root")
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", *command]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    told = json.loads(subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout)
    unreadable = [line for line in told if line and str(locked) in line]
    assert len(unreadable) == 1 and "Permission denied" in unreadable[0], told  # told once, not at every rescan
    (reason,) = (out / FAILED / "locked.jpg.txt").read_text().splitlines()
    assert "Permission denied" in reason and "not copied" in reason
    assert not (out / FAILED / "locked.jpg").exists()
    locked.chmod(0o644)  # the artist fixes it: its ctime changes, it is stamped
    arrival = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out)).process(locked)
    assert arrival is not None and arrival.outcome.result is not None, arrival
    assert not (out / FAILED / "locked.jpg.txt").exists()


def test_a_failed_file_replaced_by_a_link_meanwhile_never_copies_what_the_link_points_at(
    shows: Path, tmp_path: Path
) -> None:
    secret, broken = tmp_path / "elsewhere" / "secret.jpg", shows / "bad" / "broken.jpg"
    secret.parent.mkdir()
    secret.write_bytes(b"\xff\xd8 not for delivery")
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(tmp_path / "out"))
    info = os.lstat(broken)  # what the watch saw; then, while it stamps, the file is swapped for a link
    broken.unlink()
    broken.symlink_to(secret)
    arrival = hot._failed(broken, "not a JPEG", (info, "record", None))
    assert arrival.failed_copy is None and arrival.problems, arrival
    copied = [p for p in (tmp_path / "out").rglob("*") if p.is_file() and p.read_bytes() == secret.read_bytes()]
    assert copied == []


def test_a_file_written_again_while_the_files_before_it_are_stamped_is_not_read_until_it_settles_again(
    tmp_path: Path,
) -> None:
    import threading

    from aidisclose.watch import Arrivals, _Pending, run_watch

    first, second = tmp_path / "a.jpg", tmp_path / "b.jpg"
    shutil.copyfile(JPEG, first)
    shutil.copyfile(JPEG, second)
    arrivals = Arrivals(tmp_path)
    for path in (first, second):  # both settled long ago: returned by the same settled() call
        info = path.stat()
        arrivals.pending[path] = _Pending(info.st_size, info.st_mtime_ns, time.monotonic() - 100)
    stop, writers, handled = threading.Event(), [], []

    def handle(path: Path) -> None:
        if path == first:  # meanwhile the artist exports b.jpg again: truncated, rewritten slowly
            writer = open(second, "wb")  # noqa: SIM115 - closed by the timer, as a slow export does
            writer.write(JPEG.read_bytes()[:1000])
            writer.flush()
            writers.append(writer)
            threading.Timer(1.0, lambda: (writer.write(JPEG.read_bytes()[1000:]), writer.close())).start()
        else:
            handled.append(writers[0].closed and second.read_bytes() == JPEG.read_bytes())
            stop.set()

    runner = threading.Thread(target=run_watch, args=(arrivals, handle, 0.3, stop))
    runner.start()
    runner.join(timeout=30)
    stop.set()
    runner.join()
    assert handled == [True]  # b.jpg read once, whole, after its writer closed it


def test_a_state_anyone_could_have_written_is_not_trusted(shows: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out))
    assert hot.process(shows / "photo.jpg") is not None
    (state,) = (out / STATE).glob("*.json")
    theirs = out / "photo.jpg"
    theirs.write_bytes(b"someone else's delivery")  # then a forged state claims the watch wrote it
    forged = json.loads(state.read_text())
    forged["output_sha256"] = hashlib.sha256(theirs.read_bytes()).hexdigest()
    state.write_text(json.dumps(forged))
    state.chmod(0o666)  # as a state planted by another user would be: writable by others
    shutil.copyfile(JPEG, shows / "photo.jpg")  # the source changes: its output is looked at again
    arrival = hot.process(shows / "photo.jpg")
    assert arrival is not None and arrival.outcome.error and "not an output of this watch" in arrival.outcome.error
    assert theirs.read_bytes() == b"someone else's delivery"


def test_no_folder_records_keeps_an_artists_aidisclose_toml_from_changing_the_record(
    shows: Path, tmp_path: Path
) -> None:
    (shows / "showB" / "aidisclose.toml").write_text('ai_used = false\nproduction = "Show B"\n')
    out = tmp_path / "out"
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out), folder_records=False)
    arrival = hot.process(shows / "showB" / "tone.flac")
    assert arrival is not None and arrival.outcome.result is not None, arrival
    record = run_cli("inspect", out / "showB" / "tone.flac", "-f", "json").json()["files"][0]["record"]
    assert record["ai_used"] is True and record["production"] == "Example Feature"  # --record's, not the folder's
    assert run_cli("watch", shows, "--no-folder-records").exit_code == 2  # only with --stamp


def test_a_top_folder_named_failed_in_any_case_is_refused(shows: Path, tmp_path: Path) -> None:
    # On a case-insensitive --output (exFAT, SMB, macOS) _FAILED/x.jpg would be written among the failed files.
    (shows / "_FAILED").mkdir()
    shutil.copyfile(JPEG, shows / "_FAILED" / "photo.jpg")
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(tmp_path / "out"))
    arrival = hot.process(shows / "_FAILED" / "photo.jpg")
    assert arrival is not None and arrival.outcome.error and "mix with the failed files" in arrival.outcome.error
    assert not (tmp_path / "out" / "_FAILED").exists()


def test_a_bad_folder_record_fails_its_media_and_skips_the_notes_beside_them(shows: Path, tmp_path: Path) -> None:
    # Copied into _failed, notes named photo.jpg.txt would replace the reason of photo.jpg (_failed/photo.jpg.txt).
    folder = shows / "showB"
    (folder / "aidisclose.toml").write_text("ai_used = 3\n")
    shutil.copyfile(JPEG, folder / "photo.jpg")
    (folder / "photo.jpg.txt").write_text("artist's notes\n")
    out = tmp_path / "out"
    hot = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out))
    notes = hot.process(folder / "photo.jpg.txt")
    assert notes is not None and notes.outcome.skipped and notes.failed_copy is None, notes
    media = hot.process(folder / "photo.jpg")
    assert media is not None and media.failed_copy == out / FAILED / "showB" / "photo.jpg"
    assert "ai_used" in (out / FAILED / "showB" / "photo.jpg.txt").read_text()
    assert hot.process(folder / "photo.jpg.txt") is None and folder / "photo.jpg.txt" not in list(hot.scan())


def test_a_file_swapped_for_a_link_while_it_is_hashed_is_not_stamped_from_the_link(
    shows: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aidisclose.hotfolder as hotfolder

    secret = tmp_path / "elsewhere" / "unreleased.jpg"
    secret.parent.mkdir()
    shutil.copyfile(JPEG, secret)
    source = shows / "photo.jpg"
    real_sha256 = hotfolder.file_sha256

    def hashed_then_swapped(path: Path) -> str:  # someone who can write into the folder, at the right time
        digest = real_sha256(path)
        if path == source and not path.is_symlink():
            path.unlink()
            path.symlink_to(secret)
        return digest

    monkeypatch.setattr(hotfolder, "file_sha256", hashed_then_swapped)
    out = tmp_path / "out"
    arrival = HotFolder(shows, RecordLayers.load(EXAMPLE_RECORD), StampOptions(out)).process(source)
    assert arrival is not None and arrival.outcome.result is None and "replaced" in (arrival.outcome.error or "")
    assert not (out / "photo.jpg").exists()


def test_an_output_folder_removed_while_watching_is_held_again_or_the_watch_stops(shows: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    layers = RecordLayers.load(EXAMPLE_RECORD)
    hot = HotFolder(shows, layers, StampOptions(out))
    with hot.locked():
        assert hot.process(shows / "photo.jpg") is not None
        shutil.rmtree(out)  # someone cleans the delivery folder while the watch runs
        arrival = hot.process(shows / "showB" / "tone.flac")
        assert arrival is not None and arrival.outcome.result is not None, arrival
        second = HotFolder(shows, layers, StampOptions(out)).locked()
        with pytest.raises(DisclosureError, match="another aidisclose watch"), second:  # still held: refused
            pass
        shutil.rmtree(out)
        with HotFolder(shows, layers, StampOptions(out)).locked():  # a second watch got in first
            arrival = hot.process(shows / "photo.jpg")
            assert arrival is not None and arrival.outcome.result is None and hot.lost is not None
            assert "another aidisclose watch" in (arrival.outcome.error or "")
            assert not (out / "photo.jpg").exists()
