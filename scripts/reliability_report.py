#!/usr/bin/env python3
"""Measure aidisclose's promise on hostile input and failing disks; print the README's reliability table.

    .venv/bin/python scripts/reliability_report.py            # about 2.5 minutes on two CPUs
    .venv/bin/python scripts/reliability_report.py --mutations 5000 --kills 500

For every bundled fixture (as shipped and as stamped) it feeds the readers
random byte mutations, every truncation, and, for each XMP carrier, the
hostile packets of ``tests/hostile.py``; a reader may return a record or
raise DisclosureError, anything else is a crash and the input is saved in
``tests/regressions/``. Then it fails every file operation of a stamp in turn
(``tests/faults.py``) and kills stamping processes with SIGKILL
(``tests/killing.py``), and counts files lost. Same seed, same inputs.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import sweep  # noqa: E402
from tests.hostile import PACKETS, XMP_CARRIERS  # noqa: E402
from tests.killing import VICTIMS, kill_loop  # noqa: E402

from aidisclose import DisclosureError, inspect_file, load_record, stamp  # noqa: E402
from aidisclose.bounded import Overrun  # noqa: E402
from aidisclose.formats import detect  # noqa: E402

FIXTURES = ROOT / "fixtures"
REGRESSIONS = ROOT / "tests" / "regressions"
EXAMPLE = FIXTURES / "example-record.toml"
FAULT_COLUMNS = ("faults", "unchanged", "stamped", "absorbed", "lost")
INTERESTING = [b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\x7f\x7f\x7f", b"\x00\x00\x00\x01", b"\x80"]


class Row:
    def __init__(self) -> None:
        self.inputs = 0
        self.refused = 0
        self.stopped = 0  # a parser overran the time limit and was stopped (also counted as refused)
        self.crashes: list[str] = []
        self.slowest = 0.0


def media_fixtures() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.parent != FIXTURES)


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(out) + 1)
        value = rng.choice(INTERESTING) if rng.random() < 0.5 else rng.randbytes(rng.randint(1, 8))
        kind = rng.randrange(3)
        if kind == 0:
            out[at : at + len(value)] = value
        elif kind == 1:
            out[at:at] = value
        else:
            del out[at : at + len(value)]
    return bytes(out)


def try_read(row: Row, data: bytes, suffix: str, work: Path, label: str) -> None:
    target = work / f"input{suffix}"
    target.write_bytes(data)
    read_file(row, target, label)


def read_file(row: Row, target: Path, label: str) -> None:
    """Read ``target`` as `check` would; anything but a record or a DisclosureError is a crash, kept."""
    clock = time.perf_counter()
    stopped = False
    try:
        inspect_file(target, technical=False)
    except Overrun:
        row.refused += 1
        row.stopped += 1
        stopped = True
    except DisclosureError:
        row.refused += 1
    except Exception as exc:  # the promise: nothing but DisclosureError
        data = target.read_bytes()
        name = f"{label}-{hashlib.sha256(data).hexdigest()[:12]}{target.suffix}"
        (REGRESSIONS / name).write_bytes(data)
        row.crashes.append(f"{name}: {type(exc).__name__}: {exc}")
    if not stopped:
        row.slowest = max(row.slowest, time.perf_counter() - clock)
    row.inputs += 1


def readers(work: Path, mutations: int, seed: int) -> dict[str, Row]:
    rng = random.Random(seed)
    rows: dict[str, Row] = defaultdict(Row)
    record = load_record(EXAMPLE)
    stamped = work / "stamped"
    sources = media_fixtures()
    seeds = sources + [stamp(f, record, output_dir=stamped).destination for f in sources]
    for source in seeds:
        info = detect(source)
        row = rows[f"{info.format.value} ({', '.join(info.store.carriers)})"]
        data = source.read_bytes()
        sidecar = source.parent / f"{source.name}.xmp"
        if sidecar.exists():
            (work / f"input{source.suffix}.xmp").write_bytes(sidecar.read_bytes())
        step = 1 if len(data) <= 8192 else 7
        for cut in range(0, len(data), step):
            try_read(row, data[:cut], source.suffix, work, f"{source.stem}-cut{cut}")
        for index in range(mutations):
            try_read(row, mutate(data, rng), source.suffix, work, f"{source.stem}-mutant{index}")
        (work / f"input{source.suffix}.xmp").unlink(missing_ok=True)
    for carrier, build in XMP_CARRIERS.items():
        row = rows[f"hostile XMP in {carrier}"]
        for attack, packet in PACKETS.items():
            folder = work / f"{carrier}-{attack}"
            folder.mkdir()
            read_file(row, build(packet, folder), f"{carrier}-{attack}")  # beside its sidecar, if it has one
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mutations", type=int, default=300, help="random mutants per fixture (default 300)")
    parser.add_argument("--kills", type=int, default=100, help="SIGKILLs of stamping processes (default 100)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of Markdown")
    args = parser.parse_args()
    # A mutant that sends a parser into a loop is stopped after this long (users get 20 s by default).
    os.environ.setdefault("AIDISCLOSE_PARSE_SECONDS", "2")
    REGRESSIONS.mkdir(exist_ok=True)
    record = load_record(EXAMPLE)
    with tempfile.TemporaryDirectory(prefix="aidisclose-reliability-") as name:
        work = Path(name)
        clock = time.perf_counter()
        rows = readers(work, args.mutations, args.seed)
        faults: dict[str, dict[str, int]] = {}
        lost_to_faults = 0
        for victim in VICTIMS:
            for in_place in (True, False):
                folder = work / f"faults-{victim.name}-{in_place}"
                folder.mkdir()
                for code in (errno.ENOSPC, errno.EIO):
                    tally = sweep(victim, folder, in_place, record, code)
                    entry = faults.setdefault(victim.suffix.lstrip("."), dict.fromkeys(FAULT_COLUMNS, 0))
                    lost = len(tally.damaged) + len(tally.leftovers) + len(tally.bad_errors)
                    for column, value in zip(
                        FAULT_COLUMNS, (tally.faults, tally.unchanged, tally.stamped, tally.absorbed, lost), strict=True
                    ):
                        entry[column] += value
                    lost_to_faults += lost
        kills_dir = work / "kills"
        kills_dir.mkdir()
        kills = kill_loop(kills_dir, args.kills, EXAMPLE, seed=args.seed)
        seconds = time.perf_counter() - clock
    figures = {
        "readers": {
            k: {
                "inputs": r.inputs,
                "refused": r.refused,
                "parser_stopped": r.stopped,
                "crashes": len(r.crashes),
                "slowest_ms": r.slowest * 1000,
            }
            for k, r in sorted(rows.items())
        },
        "crash_details": [c for r in rows.values() for c in r.crashes],
        "faults": faults,
        "files_lost_to_faults": lost_to_faults,
        "kills": kills.kills,
        "kill_states": dict(kills.states),
        "after_kill_recovery": dict(kills.after),
        "files_lost_to_kills": len(kills.lost) + len(kills.leftovers),
        "seconds": round(seconds, 1),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(markdown(figures))
    crashes = len(figures["crash_details"])
    return 1 if crashes or lost_to_faults or figures["files_lost_to_kills"] else 0


def markdown(f: dict) -> str:  # type: ignore[type-arg]
    lines = [
        "| reader (carriers) | inputs tried | refused in one line | of which a parser was stopped | crashes "
        "| slowest input otherwise |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in f["readers"].items():
        lines.append(
            f"| {name} | {r['inputs']:,} | {r['refused']:,} | {r['parser_stopped']} | {r['crashes']} "
            f"| {r['slowest_ms']:.0f} ms |"
        )
    total = sum(r["inputs"] for r in f["readers"].values())
    crashes = sum(r["crashes"] for r in f["readers"].values())
    lines += [f"| **all readers** | **{total:,}** | | | **{crashes}** | |", ""]
    lines += [
        "| stamping a | faults injected | file left unchanged | already stamped | retried, stamped | files lost |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for fmt, e in f["faults"].items():
        lines.append(f"| {fmt} | {e['faults']} | {e['unchanged']} | {e['stamped']} | {e['absorbed']} | {e['lost']} |")
    injected = sum(e["faults"] for e in f["faults"].values())
    lines += [f"| **all** | **{injected}** | | | | **{f['files_lost_to_faults']}** |", ""]
    states = ", ".join(f"{n} {s}" for s, n in sorted(f["kill_states"].items()))
    after = ", ".join(f"{n} {s}" for s, n in sorted(f["after_kill_recovery"].items()))
    lines += [
        "| kill -9 of a stamping process | kills survived | files lost |",
        "|---|---:|---:|",
        f"| killed {states}; after the next run: {after} | {f['kills']} | {f['files_lost_to_kills']} |",
        "",
        f"Measured in {f['seconds']} s by `scripts/reliability_report.py`.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
