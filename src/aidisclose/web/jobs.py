"""Long work started from a page (stamping a batch) run on a thread, its progress read by the page as it goes.

A stamp run is ``plan_stamp`` and ``run_plan``, as ``aidisclose stamp`` runs them, on one process (the
server's threads must not be forked): each file's line is the CLI's own line, said as the file is done.
"""

from __future__ import annotations

import dataclasses
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ..batch import Outcome
from ..errors import DisclosureError
from ..plan import RecordLayers, StampOptions, plan_stamp, run_plan
from ..stamp import StampResult

MAX_JOBS_KEPT = 50


@dataclass
class Line:
    kind: str  # stamped | unchanged | error | skipped | note
    text: str


@dataclass
class StampRun:
    """One batch: how many files, the line of each done so far, and whether it has ended."""

    id: str
    total: int = 0
    done: int = 0
    lines: list[Line] = field(default_factory=list)
    finished: bool = False
    failed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def say(self, kind: str, text: str) -> None:
        with self.lock:
            self.lines.append(Line(kind, text))

    def snapshot(self) -> tuple[int, int, list[Line], bool, int]:
        with self.lock:
            return self.total, self.done, list(self.lines), self.finished, self.failed


class StampRuns:
    """The runs started since the app started (the last ``MAX_JOBS_KEPT``)."""

    def __init__(self, media_lock: threading.Lock) -> None:
        self._runs: dict[str, StampRun] = {}
        self._lock = threading.Lock()
        self._media_lock = media_lock  # one reader or writer of media files at a time: exiv2 is not thread-safe
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def get(self, run_id: str) -> StampRun | None:
        with self._lock:
            return self._runs.get(run_id)

    def start(self, files: list[Path], record: Path, options: StampOptions) -> StampRun:
        run = StampRun(secrets.token_hex(8))
        with self._lock:
            self._runs[run.id] = run
            while len(self._runs) > MAX_JOBS_KEPT:
                del self._runs[next(iter(self._runs))]
        thread = threading.Thread(
            target=_stamp, args=(run, files, record, options, self._media_lock, self._stopping), daemon=True,
            name="stamp",
        )  # fmt: skip
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return run

    def stop(self, timeout: float = 300.0) -> int:
        """Let each run finish the file it is writing and stamp no more; how many runs were still going.

        Called when the app stops (Ctrl-C): a thread ended mid-file would leave its temporary file behind.
        """
        self._stopping.set()
        with self._lock:
            going = [t for t in self._threads if t.is_alive()]
        for thread in going:
            thread.join(timeout)
        return len(going)


def _report(run: StampRun, outcome: Outcome[StampResult]) -> None:
    with run.lock:
        run.done += 1
    if outcome.error:
        with run.lock:
            run.failed += 1
        run.say("error", outcome.error)
    elif outcome.skipped:
        run.say("skipped", outcome.skipped)
    elif outcome.result is not None:
        result = outcome.result
        run.say("unchanged" if result.action.value == "unchanged" else "stamped", result.line())
        for note in result.notes:
            run.say("note", f"note: {result.destination}: {note}")


def _stamp(
    run: StampRun, files: list[Path], record: Path, options: StampOptions, media: threading.Lock,
    stopping: threading.Event,
) -> None:  # fmt: skip
    try:
        with media:
            _stamp_all(run, files, record, options, stopping)
    finally:
        with run.lock:
            run.finished = True


def _stamp_all(
    run: StampRun, files: list[Path], record: Path, options: StampOptions, stopping: threading.Event
) -> None:
    try:
        plan = plan_stamp(files, RecordLayers.load(record), options)
        with run.lock:
            run.total = len(plan.jobs) + len(plan.refused) + len(plan.repeated)
        for refused in plan.refused:
            _report(run, refused)
        for repeated in plan.repeated:
            _report(run, repeated)
        for item in plan.items:
            if item.skip:
                run.say("skipped", f"{item.path}: {item.skip}")
        outcomes = []
        for number, job in enumerate(plan.jobs):  # one at a time, so that stopping the app stops between files
            if stopping.is_set():
                with run.lock:
                    run.failed += 1
                left = len(plan.jobs) - number
                run.say("error", f"stamping stopped: the app was stopped; {left} file(s) not stamped, run it again")
                break
            outcomes += run_plan(dataclasses.replace(plan, jobs=(job,)), 1, lambda outcome: _report(run, outcome))
        signing = options.signing
        if signing is not None and signing.tsa_url is None and any(o.result and o.result.manifest for o in outcomes):
            run.say("note", "note: signed without a timestamp authority: the signatures are valid only while the "
                    "signing certificate is")  # fmt: skip
    except DisclosureError as err:
        with run.lock:
            run.failed += 1
        run.say("error", err.one_line())
    except Exception as exc:  # a bug must end the run with its line, never leave the page waiting
        with run.lock:
            run.failed += 1
        run.say("error", f"stamping stopped: {type(exc).__name__}: {exc}")
