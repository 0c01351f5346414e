#!/usr/bin/env python3
"""Size and peak memory of a `check` report of N files, written as `check` writes it.

The bundled fixtures are checked once (with thumbnails where the format has them), and their
results are repeated, each under its own name, until there are N; the report is written to OUT.
Run it under `/usr/bin/time -v` for the peak RSS:

    /usr/bin/time -v .venv/bin/python scripts/bench/report_memory.py html 10000 /tmp/report.html
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path

from aidisclose.batch import WalkOptions, walk
from aidisclose.check import FileCheck, ReportHead, build_report, iter_checks, load_policy, policy_infos, report_time
from aidisclose.report import STREAMERS, ReportFormat, write_report

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("format", choices=[f.value for f in ReportFormat])
    parser.add_argument("files", type=int)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    fmt = ReportFormat(args.format)
    policies = [load_policy("genai-production")]
    folders = [ROOT / "fixtures" / name for name in ("images", "audio", "video")]
    items = list(walk(folders, WalkOptions()))
    extra = {"thumbnails": True} if "thumbnails" in inspect.signature(iter_checks).parameters else {}
    seed = list(iter_checks(items, policies, **extra))

    def files() -> Iterator[FileCheck]:
        for index, file in zip(range(args.files), itertools.cycle(seed), strict=False):
            yield file.model_copy(update={"path": f"{file.path}#{index}"})

    started = dt.datetime.now(dt.UTC)
    with open(args.out, "w", encoding="utf-8", newline="") as stream:
        if fmt in STREAMERS:
            head = ReportHead(report_time(started), False, policy_infos(policies))
            STREAMERS[fmt](files(), head, stream, False, lambda: 0.0)
        else:
            write_report(build_report(list(files()), policies, False, started, 0.0), fmt, stream)
    print(f"{args.files} files: {args.out.stat().st_size / 1e6:.1f} MB", file=sys.stderr)


if __name__ == "__main__":
    main()
