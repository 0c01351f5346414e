#!/usr/bin/env python3
"""Coverage-guided fuzzing of every carrier reader with atheris, for runs longer than CI's.

    make fuzz                                   # installs atheris, runs 10 minutes
    .venv/bin/python scripts/fuzz/fuzz_readers.py -max_total_time=3600 scripts/fuzz/corpus

The corpus starts from the bundled fixtures, as shipped and as stamped (written
into ``scripts/fuzz/corpus/`` on the first run). Each input is written to a
file named for the format its first bytes claim and read with
``aidisclose.inspect_file``: a record or a DisclosureError is fine; any other
exception is a crash, and its input is copied into ``tests/regressions/``,
where ``tests/test_hardening.py`` replays it on every test run.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
REGRESSIONS = ROOT / "tests" / "regressions"

with atheris.instrument_imports():
    from aidisclose import DisclosureError, inspect_file, load_record, stamp
    from aidisclose.formats import HEAD_BYTES, sniff

WORK = Path(tempfile.mkdtemp(prefix="aidisclose-fuzz-"))



def seed_corpus() -> None:
    if CORPUS.exists():
        return
    CORPUS.mkdir(parents=True)
    record = load_record(ROOT / "fixtures" / "example-record.toml")
    for source in sorted((ROOT / "fixtures").glob("*/*")):
        (CORPUS / source.name).write_bytes(source.read_bytes())
        stamped = stamp(source, record, output_dir=WORK / "stamped").destination
        (CORPUS / f"stamped-{source.name}").write_bytes(stamped.read_bytes())


def one_input(data: bytes) -> None:
    found = sniff(data[:HEAD_BYTES])
    target = WORK / f"input.{found.extension if found else 'bin'}"
    target.write_bytes(data)
    try:
        inspect_file(target, technical=False)
    except DisclosureError:
        pass
    except Exception:
        REGRESSIONS.mkdir(exist_ok=True)
        (REGRESSIONS / f"atheris-{hashlib.sha256(data).hexdigest()[:16]}{target.suffix}").write_bytes(data)
        raise


def main() -> None:
    seed_corpus()
    args = sys.argv[:]
    if not any(not a.startswith("-") for a in args[1:]):
        args.append(str(CORPUS))
    atheris.Setup(args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
