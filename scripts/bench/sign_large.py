#!/usr/bin/env python3
"""Time C2PA signing of a >= 500 MB MP4 against `sha256sum` + `cp` of the same file, with peak memory.

Variants, each in a fresh process (so its peak RSS is its own):
  baseline         sha256sum FILE && cp FILE OUT      (the floor: one read to hash, one copy)
  sdk-sign-file    Builder.sign_file(src, dst)         (the SDK's own file API, default settings)
  sdk-streams      Builder.sign(signer, mime, src, dst) with buffered file streams
  sdk-no-thumb     streams, with thumbnail generation switched off in the SDK settings
  sdk-as-stamp     streams, with the settings `stamp` signs with (no thumbnail, no verify after signing,
                   4 MiB Merkle chunks with every chunk hash in the manifest: no proof boxes)
  aidisclose       `aidisclose stamp FILE --sign -o OUT` (the SDK reads the original with the XMP laid
                   over it, the essence is hashed beside it; the kept file is flushed while it is validated)

    .venv/bin/python scripts/bench/sign_large.py [--mb 600] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
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
BIN = Path(sys.executable).parent

SDK_VARIANT = r"""
import json, resource, sys, c2pa
src, dst, chain, key, mode = sys.argv[1:6]
manifest = {"claim_generator_info": [{"name": "bench", "version": "1"}],
            "assertions": [{"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created",
            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"}]}}]}
cert_pem, key_pem = open(chain, "rb").read(), open(key, "rb").read()
info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=cert_pem, private_key=key_pem, ta_url=None)
signer = c2pa.Signer.from_info(info)
context = None
if mode == "no-thumb":
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
if mode == "as-stamp":
    context = c2pa.Context.from_dict({
        "builder": {"thumbnail": {"enabled": False}}, "verify": {"verify_after_sign": False},
        "core": {"merkle_tree_chunk_size_in_kb": 4096, "merkle_tree_max_proofs": 0},
    })
with c2pa.Builder.from_json(json.dumps(manifest), context) as builder:
    if mode == "sign-file":
        builder.sign_file(src, dst, signer)
    else:
        with open(src, "rb") as s, open(dst, "w+b") as d:
            builder.sign(signer, "video/mp4", s, d)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

PEAK_OF = r"""
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def make_big(path: Path, mb: int) -> None:
    data = CLIP.read_bytes()
    at = data.rindex(b"mdat") - 4
    extra = mb << 20
    size = struct.unpack(">I", data[at : at + 4])[0] + extra
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        out.write(data[:at] + struct.pack(">I", size) + data[at + 4 :])
        for _ in range(mb):
            out.write(block)


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of ``cmd`` run in a fresh process."""
    start = time.perf_counter()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    return time.perf_counter() - start, int(out[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=600)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aidisclose-sign-bench-"))
    try:
        big = work / "big.mp4"
        print(f"making a {args.mb} MB MP4 in {work} ...", flush=True)
        make_big(big, args.mb)
        keys = work / "keys"
        subprocess.run([str(BIN / "aidisclose"), "keys", "init", str(keys)], check=True, capture_output=True)
        chain, key = str(keys / "chain.pem"), str(keys / "key.pem")
        py = sys.executable
        variants = {
            "baseline": lambda o: [py, "-c", PEAK_OF, "sh", "-c", f"sha256sum {big} >/dev/null && cp {big} {o}"],
            "sdk-sign-file": lambda o: [py, "-c", SDK_VARIANT, str(big), str(o), chain, key, "sign-file"],
            "sdk-streams": lambda o: [py, "-c", SDK_VARIANT, str(big), str(o), chain, key, "streams"],
            "sdk-no-thumb": lambda o: [py, "-c", SDK_VARIANT, str(big), str(o), chain, key, "no-thumb"],
            "sdk-as-stamp": lambda o: [py, "-c", SDK_VARIANT, str(big), str(o), chain, key, "as-stamp"],
            "aidisclose": lambda o: [
                py, "-c", PEAK_OF, str(BIN / "aidisclose"), "stamp", str(big), "-r", str(RECORD),
                "-o", str(o.parent), "--sign", "--sign-cert", chain, "--sign-key", key,
            ],
        }  # fmt: skip
        results: dict[str, list[tuple[float, int]]] = {name: [] for name in variants}
        for run_no in range(args.runs):
            for name, command in variants.items():  # alternate variants within each run
                out_dir = work / f"{name}-{run_no}"
                out_dir.mkdir()
                results[name].append(run(command(out_dir / "big.mp4")))
                shutil.rmtree(out_dir)
        base = statistics.median(t for t, _ in results["baseline"])
        print(f"\n{args.mb} MB MP4, median of {args.runs} runs (ratio to sha256sum + cp)")
        for name, values in results.items():
            seconds = statistics.median(t for t, _ in values)
            peak = max(m for _, m in values) / 1024
            print(f"  {name:14} {seconds:7.2f} s  {seconds / base:5.2f}x   peak {peak:7.0f} MB")
        print(json.dumps({k: [list(v) for v in vals] for k, vals in results.items()}), file=sys.stderr)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
