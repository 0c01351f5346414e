#!/usr/bin/env python3
"""What a hot folder's restart costs: stamping N arrivals, then the scan that finds them all done.

The folder holds N small audio files in two subfolders, one with its own aidisclose.toml. The first
pass stamps them all (as ``watch --stamp`` does, one at a time); the second is a restart: it walks the
folder and reads only the state files, and must find nothing to do.

    .venv/bin/python scripts/bench/hotfolder_rescan.py [--files 2000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from aidisclose.hotfolder import HotFolder
from aidisclose.plan import RecordLayers, StampOptions

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=2000)
    files = parser.parse_args().files
    record = ROOT / "fixtures" / "example-record.toml"
    with tempfile.TemporaryDirectory() as tmp:
        inbox, out = Path(tmp) / "exports", Path(tmp) / "stamped"
        for show, fixture in (("showA", "audio/tone.mp3"), ("showB", "audio/tone.flac")):
            (inbox / show).mkdir(parents=True)
            for index in range(files // 2):
                shutil.copyfile(ROOT / "fixtures" / fixture, inbox / show / f"take{index:05}{Path(fixture).suffix}")
        (inbox / "showB" / "aidisclose.toml").write_text('production = "Show B"\n')
        hot = HotFolder(inbox, RecordLayers.load(record), StampOptions(out))
        clock = time.perf_counter()
        todo = list(hot.scan())
        for path in todo:
            hot.process(path)
        stamped = time.perf_counter() - clock
        restarted = HotFolder(inbox, RecordLayers.load(record), StampOptions(out))
        clock = time.perf_counter()
        left = list(restarted.scan())
        scanned = time.perf_counter() - clock
    print(f"{len(todo)} files: stamped in {stamped:.1f} s ({len(todo) / stamped:.0f} files/s)")
    print(f"restart scan: {scanned:.2f} s ({scanned / len(todo) * 1e3:.2f} ms a file), {len(left)} left to do")


if __name__ == "__main__":
    main()
