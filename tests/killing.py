"""``kill -9`` a process that stamps files in place, again and again, and account for every file.

A child process stamps one copy of a fixture in place, alternating two
records, until it is killed with SIGKILL at a random moment. Then the next
run's recovery step (:func:`aidisclose.safewrite.recover`) runs, and the file
must be byte-identical to the original or carry one of the two records over
the original essence, with no temp file or journal left beside it.

Used by the tests (a fixed seed) and by ``scripts/reliability_report.py``.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from aidisclose import DisclosureError, inspect_file, load_record
from aidisclose.formats import detect
from aidisclose.safewrite import JOURNAL_SUFFIX, TEMP_SUFFIX, recover

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
#: One fixture per write strategy and container family.
VICTIMS = [
    FIXTURES / "images" / "photo.jpg",
    FIXTURES / "images" / "plate.tif",
    FIXTURES / "audio" / "tone.mp3",
    FIXTURES / "audio" / "tone.wav",
    FIXTURES / "audio" / "tone.flac",
    FIXTURES / "audio" / "tone.ogg",
    FIXTURES / "audio" / "tone.m4a",
    FIXTURES / "video" / "clip.mp4",
    FIXTURES / "video" / "clip.mov",
    FIXTURES / "video" / "clip.mkv",
]

CHILD = """
import sys
from pathlib import Path
from aidisclose import load_record, stamp
target, records = Path(sys.argv[1]), [load_record(p) for p in sys.argv[2:]]
print("ready", flush=True)
while True:
    for record in records:
        stamp(target, record, in_place=True)
"""


@dataclass
class KillTally:
    kills: int = 0
    states: Counter[str] = field(default_factory=Counter)  # what each kill left, before recovery
    after: Counter[str] = field(default_factory=Counter)  # what the file was after recovery
    lost: list[str] = field(default_factory=list)  # files that were neither the original nor validly stamped
    leftovers: list[str] = field(default_factory=list)  # temp files or journals still there after recovery
    by_format: Counter[str] = field(default_factory=Counter)


def _records(folder: Path, example: Path) -> list[Path]:
    record = load_record(example)
    paths = []
    for name in ("A", "B"):
        path = folder / f"record-{name}.json"
        path.write_text(record.model_copy(update={"asset_id": f"KILL-{name}"}).model_dump_json())
        paths.append(path)
    return paths


def _state_before_recovery(target: Path) -> str:
    names = os.listdir(target.parent)
    if any(n.endswith(JOURNAL_SUFFIX) for n in names):
        return "in-place edit interrupted (journal)"
    if any(n.endswith(TEMP_SUFFIX) for n in names):
        return "rewrite interrupted (temp file)"
    return "between writes"


def kill_loop(folder: Path, kills: int, example: Path, seed: int = 0, max_delay: float = 0.25) -> KillTally:
    """Run ``kills`` kill-and-recover rounds over the victims in turn; return what was seen."""
    rng = random.Random(seed)
    records = _records(folder, example)
    wanted = [load_record(p) for p in records]
    tally = KillTally()
    for round_ in range(kills):
        source = VICTIMS[round_ % len(VICTIMS)]
        work = folder / f"round{round_:03d}"
        work.mkdir()
        target = work / source.name
        shutil.copyfile(source, target)
        original = target.read_bytes()
        store = detect(target).store
        essence = store.essence_digest(target)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(target), *map(str, records)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the stamping child did not start: {child.communicate()[1]}")
        time.sleep(rng.uniform(0, max_delay))
        child.send_signal(signal.SIGKILL)
        child.communicate()
        tally.kills += 1
        tally.by_format[source.suffix] += 1
        tally.states[_state_before_recovery(target)] += 1
        recover(target)
        if target.read_bytes() == original:
            tally.after["original bytes"] += 1
        else:
            try:
                valid = inspect_file(target, technical=False).record in wanted
                valid = valid and store.essence_digest(target) == essence
            except DisclosureError:
                valid = False
            if valid:
                tally.after["stamped, essence unchanged"] += 1
            else:
                tally.lost.append(str(target))
        tally.leftovers += [str(p) for p in work.iterdir() if p.name.startswith(".")]
        shutil.rmtree(work)
    return tally
