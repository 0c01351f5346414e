#!/usr/bin/env python3
"""Build a reproducible mixed corpus for the batch benchmarks: N files, half stamped, some signed.

Files are the bundled fixtures (JPEG, PNG, TIFF, MP3, WAV, FLAC, M4A, MP4, MOV) spread over nested
folders; every second file is stamped with fixtures/example-record.toml, every twentieth also signed
with a throwaway test CA.

    .venv/bin/python scripts/bench/corpus.py OUT_DIR [--files 1000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from aidisclose import load_record, stamp
from aidisclose.carriers.c2pa.identity import SigningIdentity, make_test_ca

ROOT = Path(__file__).resolve().parents[2]
KINDS = [
    "images/photo.jpg", "images/overlay.png", "images/plate.tif", "audio/tone.mp3", "audio/tone.wav",
    "audio/tone.flac", "audio/tone.m4a", "video/clip.mp4", "video/clip.mov",
]  # fmt: skip


def build(out: Path, files: int) -> None:
    record = load_record(ROOT / "fixtures" / "example-record.toml")
    with tempfile.TemporaryDirectory() as tmp:
        keys = make_test_ca(Path(tmp) / "keys")
        identity = SigningIdentity.from_files(keys["chain"], keys["key"])
        variants = {}
        for kind in KINDS:
            source = ROOT / "fixtures" / kind
            plain = stamp(source, record, output_dir=Path(tmp) / "stamped").destination
            signed = stamp(source, record, output_dir=Path(tmp) / "signed", signing=identity).destination
            variants[kind] = (source, plain, signed)
        for index in range(files):
            kind = KINDS[index % len(KINDS)]
            source, plain, signed = variants[kind]
            origin = signed if index % 20 == 0 else plain if index % 2 == 0 else source
            folder = out / f"reel{index % 10}" / f"scene{index % 13}"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, folder / f"f{index:05d}{source.suffix}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    build(args.out, args.files)
    print(f"{args.files} files in {args.out}")


if __name__ == "__main__":
    main()
