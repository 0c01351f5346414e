"""A fault-injecting file layer: the Nth write, truncate, fsync, rename or copy fails with an OSError.

Every file opened for writing (through ``open``, ``io.open`` or ``pathlib``)
is wrapped so its ``write`` and ``truncate`` calls are counted, alongside
``os.fsync``, ``os.replace``, ``os.rename``, ``os.truncate``, ``os.ftruncate``, ``os.pwrite`` and
``os.sendfile`` (what ``shutil.copyfile`` uses). The operation numbered
``at`` raises ``OSError(errno)``; with ``sticky`` every operation after it
fails too (a disk that stays full, a permission that stays lost). The real
libraries run underneath; only the operating system's answers are changed.
"""

from __future__ import annotations

import builtins
import errno as errnos
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_WRITE_MODES = set("wax+")


@dataclass
class FaultPlan:
    at: int  # the 1-based operation that fails
    errno: int = errnos.ENOSPC
    sticky: bool = False
    count: int = 0
    fired: list[str] = field(default_factory=list)
    pid: int = field(default_factory=os.getpid)  # faults are this process's; a forked helper (MediaInfo) is left alone

    def tick(self, what: str) -> None:
        if os.getpid() != self.pid:
            return
        self.count += 1
        if self.count == self.at or (self.sticky and self.count > self.at):
            self.fired.append(what)
            raise OSError(self.errno, os.strerror(self.errno))


class _FaultyFile:
    """A file object whose writes and truncates pass through the plan first."""

    def __init__(self, inner: Any, plan: FaultPlan) -> None:
        self._inner, self._plan = inner, plan

    def write(self, data: Any) -> int:
        self._plan.tick("write")
        return int(self._inner.write(data))

    def truncate(self, size: int | None = None) -> int:
        self._plan.tick("truncate")
        return int(self._inner.truncate(size))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _FaultyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._inner)


@contextmanager
def faults(plan: FaultPlan) -> Iterator[FaultPlan]:
    """Run the block with ``plan`` in force for every file operation that changes data on disk."""
    real_open, real = builtins.open, {name: getattr(os, name) for name in ("fsync", "replace", "rename", "truncate")}
    real_sendfile = os.sendfile

    def faulty_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        return _FaultyFile(handle, plan) if _WRITE_MODES & set(mode) else handle

    def counted(name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            plan.tick(name)
            return real[name](*args, **kwargs)

        return call

    def faulty_sendfile(*args: Any) -> int:
        plan.tick("sendfile")
        return real_sendfile(*args)

    builtins.open = io.open = faulty_open  # type: ignore[assignment]
    for name in real:
        setattr(os, name, counted(name))
    os.sendfile = faulty_sendfile
    try:
        yield plan
    finally:
        builtins.open = io.open = real_open
        for name, function in real.items():
            setattr(os, name, function)
        os.sendfile = real_sendfile


@dataclass
class SweepTally:
    faults: int = 0  # runs in which an injected fault fired
    operations: int = 0  # file operations a clean run makes (the sweep tries each)
    unchanged: int = 0  # faulted runs after which the file was byte-identical to the original
    stamped: int = 0  # faulted runs after which the file was already fully stamped (a fault after the rename)
    absorbed: int = 0  # faults the copy retried without them (shutil's plain copy after a failed sendfile): stamped
    damaged: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)
    bad_errors: list[str] = field(default_factory=list)  # failures not told as one DisclosureError line


def _stamped(target: Any, record: Any) -> bool:
    from aidisclose import DisclosureError, inspect_file

    try:
        return bool(inspect_file(target, technical=False).record == record)
    except DisclosureError:
        return False


def sweep(source: Any, folder: Any, in_place: bool, record: Any, errno: int = errnos.ENOSPC) -> SweepTally:
    """Stamp a copy of ``source`` once per file operation, failing that operation; check nothing was lost."""
    import shutil

    from aidisclose import DisclosureError, stamp

    tally = SweepTally()
    at = 0
    while True:
        at += 1
        work = folder / f"fault-{source.stem}-{at}"
        work.mkdir()
        target = work / source.name
        shutil.copyfile(source, target)
        original = target.read_bytes()
        plan = FaultPlan(at, errno)
        failure = None
        with faults(plan):
            try:
                stamp(target, record, **({"in_place": True} if in_place else {"output_dir": work / "out"}))
            except DisclosureError as exc:
                failure = str(exc)
            except Exception as exc:  # the promise is one DisclosureError line, nothing else
                failure = f"{type(exc).__name__}: {exc}"
                tally.bad_errors.append(f"op {at}: {failure}")
        if not plan.fired:
            tally.operations = plan.count
            shutil.rmtree(work)
            return tally
        tally.faults += 1
        if failure is None:  # a fault the copy retried around: success only if the file really is stamped
            result = target if in_place else work / "out" / source.name
            if _stamped(result, record) and (in_place or target.read_bytes() == original):
                tally.absorbed += 1
            else:
                tally.bad_errors.append(f"op {at} ({plan.fired[0]}) failed but stamp reported success")
        elif str(target) not in failure or "\n" in failure:
            tally.bad_errors.append(f"op {at}: {failure}")
        elif target.read_bytes() == original:
            tally.unchanged += 1
        elif _stamped(target, record):  # the fault came after the new file was in place
            tally.stamped += 1
        else:
            tally.damaged.append(f"op {at} ({plan.fired[0]}): {target.name} changed and does not carry the record")
        tally.leftovers += [f"op {at}: {p.name}" for p in work.rglob(".*")]
        shutil.rmtree(work)
