#!/usr/bin/env bash
# Time `aidisclose check DIR`, `aidisclose inspect --format json DIR` and ExifTool's read-only pass
# `exiftool -json -r DIR` on the same corpus, alternating runs; print median wall time, the ratio to
# ExifTool and peak memory (of the whole process tree).
#   scripts/bench/inspect_vs_exiftool.sh [FILES=1000] [RUNS=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
files=${1:-1000}
runs=${2:-3}
py=.venv/bin/python
# Time the tool as installed: pip byte-compiles a package it installs, but an editable checkout run with
# PYTHONDONTWRITEBYTECODE set (as in some CI images) would recompile every module on every start.
$py -m compileall -q src >/dev/null
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
$py scripts/bench/corpus.py "$corpus/c" --files "$files" >/dev/null
$py - "$corpus/c" "$runs" <<'PY'
import resource, statistics, subprocess, sys, time
corpus, runs = sys.argv[1], int(sys.argv[2])
tools = {
    "aidisclose check": [".venv/bin/aidisclose", "check", corpus, "-f", "json"],
    "aidisclose inspect": [".venv/bin/aidisclose", "inspect", corpus, "-f", "json"],
    "exiftool -json -r": ["exiftool", "-json", "-r", corpus],
}
peak_of = "import resource,subprocess,sys;subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
times = {name: [] for name in tools}
peaks = {name: 0 for name in tools}
for _ in range(runs):
    for name, cmd in tools.items():
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", peak_of, *cmd], capture_output=True, text=True, check=True)
        times[name].append(time.perf_counter() - start)
        peaks[name] = max(peaks[name], int(out.stdout.split()[-1]))
exif = statistics.median(times["exiftool -json -r"])
count = sum(1 for _ in __import__("pathlib").Path(corpus).rglob("*.*"))
print(f"{count} files, median of {runs} runs (peak memory is the largest single process)")
for name, values in times.items():
    median = statistics.median(values)
    print(f"  {name:20} {median:7.2f} s  {count / median:7.0f} files/s  {exif / median:5.2f}x ExifTool's speed  peak {peaks[name] / 1024:6.0f} MB")
PY
