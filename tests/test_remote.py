"""A delivery in object storage, checked on a Dask cluster: a real S3 server (SeaweedFS) and a real cluster.

The server and a LocalCluster of two worker processes are started once for the session on 127.0.0.1 and
stopped after it; each test runs the CLI in its own process, as a pipeline would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import seaweed
from .conftest import FIXTURES, run_cli

BUCKET = "delivery"
#: The corpus checked both ways: a file of each reader (exiv2, the BMFF walker, RIFF, IFF, mutagen's FLAC,
#: Ogg and ID3, TIFF IFDs, PSD resources, a sidecar format) and C2PA-signed files, whose validation the
#: SDK reads from the object itself.
CORPUS = [
    *(FIXTURES / "images" / name for name in ("photo.jpg", "overlay.png", "plate.tif", "still.webp")),
    *(FIXTURES / "audio" / name for name in ("tone.flac", "tone.mp3", "tone.ogg", "tone.wav", "tone.m4a")),
    *(FIXTURES / "video" / name for name in ("clip.mp4", "clip.mkv")),
    *(FIXTURES / "foreign" / name for name in ("Photoshop.psd", "DNG.dng", "48k-2ch-s16-silence.aif",
                                               "Stonehenge.heic", "boxhash.jpg", "cloud.jpg")),
]  # fmt: skip


@pytest.fixture
def storage_env(s3: seaweed.SeaweedS3, monkeypatch: pytest.MonkeyPatch) -> None:
    """The AWS variables of the test server, as a pipeline sets them (the CLI runs in this process)."""
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def _servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[seaweed.SeaweedS3, Any]]:
    """SeaweedFS and a LocalCluster of two worker processes, started side by side, stopped after the session.

    The workers have the storage's credentials in their environment, as a cluster's workers have.
    """
    from distributed import Client, LocalCluster

    server = seaweed.launch(tmp_path_factory.mktemp("seaweedfs"))
    saved = {name: os.environ.get(name) for name in server.env}
    os.environ.update(server.env)
    try:
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as running, Client(running) as client:
            client.run(_warm)  # each worker loads the readers while the server starts
            yield seaweed.ready(server, BUCKET), running
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _warm() -> None:
    import s3fs  # noqa: F401



@pytest.fixture(scope="session")
def s3(_servers: tuple[seaweed.SeaweedS3, Any]) -> seaweed.SeaweedS3:
    return _servers[0]


@pytest.fixture(scope="session")
def cluster(_servers: tuple[seaweed.SeaweedS3, Any]) -> Any:
    return _servers[1]


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory, s3: seaweed.SeaweedS3) -> Path:
    """The corpus as a local folder (with a subfolder, a hidden file, a sidecar) and the same tree in the bucket."""
    folder = tmp_path_factory.mktemp("corpus") / "ep101"
    (folder / "foreign").mkdir(parents=True)
    for path in CORPUS:
        shutil.copy2(path, folder / ("foreign" if path.parent.name == "foreign" else "") / path.name)
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (folder / "notes.txt").write_text("not media\n")
    (folder / "clip.mkv.xmp").write_bytes(b"<x:xmpmeta xmlns:x='adobe:ns:meta/'/>")
    s3.filesystem().put(str(folder), f"{BUCKET}/ep101", recursive=True)
    return folder


_TIMES = [
    (r'"duration_s": [0-9.]+', '"duration_s": 0'),
    (r'"started_at": "[^"]+"', '"started_at": ""'),
    (r' time="[0-9.]+"', ' time=""'),
    (r' timestamp="[^"]+"', ' timestamp=""'),
]


def _apart_from_timings(text: str, root: str) -> str:
    text = text.replace(root, "ROOT")
    for pattern, fixed in _TIMES:
        text = re.sub(pattern, fixed, text)
    return text


@pytest.mark.usefixtures("storage_env")
def test_the_same_corpus_from_a_folder_and_from_storage_on_dask_gives_the_same_reports(
    cluster: Any, corpus: Path, tmp_path: Path
) -> None:
    for fmt in ("json", "junit"):
        local = run_cli("check", corpus, "-f", fmt, "-o", tmp_path / f"local.{fmt}")
        remote = run_cli(
            "check", f"s3://{BUCKET}/ep101", "-f", fmt, "-o", tmp_path / f"remote.{fmt}",
            "--engine", "dask", "--scheduler", cluster.scheduler_address,
        )  # fmt: skip
        assert local.exit_code == remote.exit_code == 1, remote.stderr
        assert "read " in remote.stderr and "bytes from storage" in remote.stderr
        mine = _apart_from_timings((tmp_path / f"local.{fmt}").read_text(), str(corpus))
        theirs = _apart_from_timings((tmp_path / f"remote.{fmt}").read_text(), f"s3://{BUCKET}/ep101")
        assert theirs == mine
    report = json.loads((tmp_path / "remote.json").read_text())
    paths = [f["path"] for f in report["files"]]
    assert len(paths) == len(set(paths)) == len(CORPUS) + 2  # + the hidden file and the notes (skipped)
    assert all(p.startswith(f"s3://{BUCKET}/ep101/") for p in paths)
    checked = [f for f in report["files"] if f["verdict"] in ("pass", "fail")]
    assert len(checked) == len(CORPUS) and all(f["sha256"] for f in checked)
    signed = [f for f in checked if f["c2pa"]["state"] not in ("none",)]
    assert signed, "the corpus holds C2PA manifests: their validation read the objects through the SDK"


@pytest.mark.usefixtures("storage_env")
def test_credits_of_a_delivery_in_storage_are_those_of_the_same_folder(corpus: Path) -> None:
    local = run_cli("credits", corpus, "-f", "json")
    remote = run_cli("credits", f"s3://{BUCKET}/ep101", "-f", "json", "-j", "2")  # forked readers, each its own client
    assert remote.exit_code == local.exit_code, remote.stderr
    assert remote.stdout.replace(f"s3://{BUCKET}/ep101", "ROOT") == local.stdout.replace(str(corpus), "ROOT")
    assert f"s3://{BUCKET}/ep101/" in remote.stdout


def _boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    found, offset = [], 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        found.append((kind, offset, size))
        offset += size
    return found


def _moov_last(tmp_path: Path, megabytes: int) -> Path:
    """clip.mp4 remuxed with its moov after the mdat, stamped, then the mdat grown to ``megabytes``."""
    plain = tmp_path / "plain.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", FIXTURES / "video" / "clip.mp4", "-c", "copy",
                    "-movflags", "-faststart", plain], check=True, timeout=60)  # fmt: skip
    stamped = tmp_path / "stamped"
    done = run_cli("stamp", plain, "--record", FIXTURES / "example-record.toml", "--output", stamped)
    assert done.exit_code == 0, done.stderr
    data = (stamped / "plain.mp4").read_bytes()
    boxes = _boxes(data)
    kinds = [k for k, _, _ in boxes]
    assert kinds.index(b"moov") > kinds.index(b"mdat"), boxes
    _, offset, size = next(b for b in boxes if b[0] == b"mdat")
    grow = megabytes * (1 << 20) - len(data)
    end = offset + size  # padding at the mdat's end moves no sample: the chunk offsets stay right
    grown = data[:offset] + struct.pack(">I", size + grow) + data[offset + 4 : end] + b"\0" * grow + data[end:]
    target = tmp_path / "moov-last.mp4"
    target.write_bytes(grown)
    return target


@pytest.mark.usefixtures("storage_env")
def test_a_moov_last_mp4_in_storage_is_inspected_with_digest_none_reading_under_one_percent(
    s3: seaweed.SeaweedS3, tmp_path: Path
) -> None:
    video = _moov_last(tmp_path, 24)
    size = video.stat().st_size
    s3.filesystem().put(str(video), f"{BUCKET}/big/moov-last.mp4")
    url = f"s3://{BUCKET}/big/moov-last.mp4"
    done = run_cli("inspect", url, "--digest", "none", "-f", "json")
    assert done.exit_code == 0, done.stderr
    fetched = int(re.search(r"read ([0-9,]+) bytes from storage", done.stderr).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert 0 < fetched < size / 100, f"read {fetched:,} of {size:,} bytes"
    result = json.loads(done.stdout)
    result = result[0] if isinstance(result, list) else result.get("files", [result])[0]
    assert result["path"] == url and result["sha256"] is None
    local = run_cli("inspect", video, "-f", "json")
    expected = json.loads(local.stdout)
    expected = expected[0] if isinstance(expected, list) else expected.get("files", [expected])[0]
    assert result["record"] == expected["record"] and result["record"]["ai_used"] is True
    # The same object checked with --digest none: the report says so, and names no digest.
    check = run_cli("check", url, "--digest", "none", "-f", "json")
    report = json.loads(check.stdout)
    assert report["digest"] == "none" and report["files"][0]["sha256"] is None
    fetched = int(re.search(r"read ([0-9,]+) bytes", check.stderr).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert fetched < size / 100
    # With the digest, every byte is read once more, streamed.
    full = run_cli("check", url, "-f", "json")
    assert json.loads(full.stdout)["files"][0]["sha256"] == expected["sha256"]


@pytest.mark.usefixtures("storage_env")
def test_killing_a_dask_worker_mid_run_still_reports_every_file_once(
    s3: seaweed.SeaweedS3, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client

    copies = 48
    fs = s3.filesystem()
    source = (FIXTURES / "images" / "photo.jpg").read_bytes()
    fs.pipe({f"{BUCKET}/many/shot{n:03d}.jpg": source for n in range(copies)})
    client = Client(cluster.scheduler_address)
    try:
        pids = client.run(os.getpid)
        victim_address, victim = sorted(pids.items())[0]
        killed = threading.Event()

        def kill_when_busy() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                busy = client.processing().get(victim_address, ())
                if any(str(key).startswith("aidisclose-") for key in busy):
                    os.kill(victim, signal.SIGKILL)  # a worker process this test's cluster started
                    killed.set()
                    return
                time.sleep(0.02)

        watcher = threading.Thread(target=kill_when_busy, daemon=True)
        watcher.start()
        monkeypatch.setenv("AIDISCLOSE_DASK_BATCH", "4")
        done = run_cli(
            "check", f"s3://{BUCKET}/many", "-f", "json", "--engine", "dask",
            "--scheduler", cluster.scheduler_address, "--digest", "none",
        )  # fmt: skip
        watcher.join(timeout=5)
    finally:
        client.close()
    assert killed.is_set(), "the worker was never caught with a batch: nothing was killed"
    report = json.loads(done.stdout)
    paths = [f["path"] for f in report["files"]]
    assert paths == [f"s3://{BUCKET}/many/shot{n:03d}.jpg" for n in range(copies)]
    assert {f["verdict"] for f in report["files"]} <= {"pass", "fail"}, [f["reason"] for f in report["files"]]
    assert report["summary"]["files"] == copies and report["summary"]["errors"] == 0
