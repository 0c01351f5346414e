#!/usr/bin/env bash
# Time one-file calls, as an export hook or a QC operator makes them: `aidisclose --version`,
# `aidisclose inspect FILE -f json`, `aidisclose check FILE -f json` and ExifTool's `exiftool -json FILE`,
# alternating runs; print the median wall time, the ratio to ExifTool and peak memory (/usr/bin/time -v).
#   scripts/bench/startup_vs_exiftool.sh [FILE=fixtures/images/photo.jpg] [RUNS=9]
# PYTHON names the interpreter (default .venv/bin/python); the checkout's src/ comes first on its path.
set -euo pipefail
cd "$(dirname "$0")/../.."
file=${1:-fixtures/images/photo.jpg}
runs=${2:-9}
py=${PYTHON:-.venv/bin/python}
# Time the tool as installed: pip byte-compiles a package it installs.
$py -m compileall -q src >/dev/null
PYTHONPATH="$PWD/src" $py - "$file" "$runs" <<'PY'
import re, statistics, subprocess, sys, time
file, runs = sys.argv[1], int(sys.argv[2])
cli = [sys.executable, "-c", "import sys; from aidisclose.cli import main; sys.argv[0] = 'aidisclose'; main()"]
tools = {
    "aidisclose --version": [*cli, "--version"],
    "aidisclose inspect -f json": [*cli, "inspect", file, "-f", "json"],
    "aidisclose check -f json": [*cli, "check", file, "-f", "json"],
    "exiftool -json": ["exiftool", "-json", file],
}
times: dict[str, list[float]] = {name: [] for name in tools}
peaks = dict.fromkeys(tools, 0)
for _ in range(runs):
    for name, cmd in tools.items():
        start = time.perf_counter()
        out = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        times[name].append(time.perf_counter() - start)
        if out.returncode not in (0, 1):
            sys.exit(f"{name} failed ({out.returncode}): {out.stderr.splitlines()[:3]}")
        peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out.stderr)
        peaks[name] = max(peaks[name], int(peak.group(1)) if peak else 0)
exif = statistics.median(times["exiftool -json"])
print(f"{file}, median of {runs} alternating runs")
for name, values in times.items():
    median = statistics.median(values)
    print(f"  {name:28} {median * 1000:6.0f} ms  {median / exif:5.2f}x ExifTool's time  peak {peaks[name] / 1024:5.0f} MB")
PY
