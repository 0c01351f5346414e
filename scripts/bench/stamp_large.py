#!/usr/bin/env python3
"""Time stamping a >= 1 GiB MP4 with aidisclose against ExifTool, on the same file in the same run.

The file is the bundled clip.mp4 with its (last) mdat grown by dense pseudo-random
bytes, so nothing is sparse and every tool pays for real I/O. It still plays:
the sample offsets point at the original samples. Prints seconds and ratios.

    .venv/bin/python scripts/bench/stamp_large.py [--gib 1] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "fixtures" / "video" / "clip.mp4"
RECORD = ROOT / "fixtures" / "example-record.toml"
AIDISCLOSE = Path(sys.executable).with_name("aidisclose")
DST = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


def make_big(path: Path, gib: float) -> None:
    data = CLIP.read_bytes()
    mdat_at = data.rindex(b"mdat") - 4
    extra = int(gib * (1 << 30))
    size = struct.unpack(">I", data[mdat_at : mdat_at + 4])[0] + extra
    if size > 0xFFFFFFFF:
        raise SystemExit("keep --gib under 4 (the fixture's mdat has a 32-bit size)")
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        out.write(data[:mdat_at] + struct.pack(">I", size) + data[mdat_at + 4 :])
        for _ in range(extra >> 20):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    if not shutil.which("exiftool"):
        raise SystemExit("exiftool is needed (Debian: libimage-exiftool-perl)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="aidisclose-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    big = work / "big.mp4"
    print(f"making {args.gib:g} GiB MP4 in {work} ...", flush=True)
    make_big(big, args.gib)
    results: dict[str, list[float]] = {"aidisclose --in-place": [], "aidisclose --output": [], "exiftool -o": []}
    for run in range(args.runs):
        out = work / f"out{run}"
        results["aidisclose --in-place"].append(
            timed([str(AIDISCLOSE), "stamp", str(big), "-r", str(RECORD), "--in-place"])
        )
        results["aidisclose --output"].append(
            timed([str(AIDISCLOSE), "stamp", str(big), "-r", str(RECORD), "-o", str(out)])
        )
        shutil.rmtree(out)
        results["exiftool -o"].append(
            timed(["exiftool", "-q", f"-XMP-iptcExt:DigitalSourceType={DST}", "-o", str(work / "exif.mp4"), str(big)])
        )
        (work / "exif.mp4").unlink()
    exif = statistics.median(results["exiftool -o"])
    print(f"\nfile: {big.stat().st_size / (1 << 30):.2f} GiB, median of {args.runs} runs")
    for name, times in results.items():
        median = statistics.median(times)
        print(f"  {name:24} {median:8.3f} s   {median / exif:6.3f} x exiftool")
    if not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
