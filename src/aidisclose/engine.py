"""Where the work of a batch runs: this machine's process pool (``local``), or a Dask cluster (``dask``).

Dask gets batches of files (not one task per file), a bounded number in flight, and the results come
back in input order, so the same writers stream the same report whichever engine ran it. A worker
that dies loses only the batch it held: the scheduler gives it to another worker, and a batch that
still fails is sent again, a few times, before each of its files is reported as an error. A file that
fails is a row, as it is locally: the work functions never raise.

``distributed`` is imported only for ``--engine dask`` (``pip install 'aidisclose[cloud]'``).
"""

from __future__ import annotations

import itertools
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from enum import StrEnum
from typing import Any, TypeVar

from .batch import imap_in_order
from .errors import DisclosureError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

T = TypeVar("T")
R = TypeVar("R")

BATCH_FILES = 64  # files per Dask task (AIDISCLOSE_DASK_BATCH): one hand-over, one scheduler decision for them
RESENDS = 3  # a batch whose task failed (its workers kept dying) is sent again this many times


def is_url(text: str | os.PathLike[str]) -> bool:
    """Whether ``text`` names an object in storage (``s3://...``, any fsspec URL), not a local path."""
    return bool(_URL.match(os.fspath(text)))


class Engine(StrEnum):
    local = "local"
    dask = "dask"


def run_in_order(
    work: Callable[[T], R],
    items: Iterable[T],
    engine: Engine = Engine.local,
    jobs: int = 1,
    size_of: Callable[[T], int] | None = None,
    scheduler: str | None = None,
    failed: Callable[[T, str], R] | None = None,
    batch_files: int | None = None,
) -> Iterator[R]:
    """``work`` over ``items`` on ``engine``, yielded in input order.

    With Dask, ``scheduler`` is a running scheduler's address (``tcp://HOST:PORT``); without one a
    ``LocalCluster`` of ``jobs`` worker processes is started for the run and stopped after it.
    ``failed(item, reason)`` makes the result of an item whose batch could not be run at all.
    """
    if engine is Engine.local:
        yield from imap_in_order(work, items, jobs, size_of)
        return
    yield from _dask(work, items, jobs, scheduler, failed, batch_files or _batch_files())


def _batch_files() -> int:
    """Files per Dask task: ``AIDISCLOSE_DASK_BATCH`` (1 to 100,000), else BATCH_FILES."""
    text = os.environ.get("AIDISCLOSE_DASK_BATCH", "")
    return min(100_000, max(1, int(text))) if text.isdigit() else BATCH_FILES


def _run_batch(work: Callable[[T], R], batch: list[T]) -> list[R]:
    """On a Dask worker: one batch, in order."""
    return [work(item) for item in batch]


def _client(jobs: int, scheduler: str | None) -> tuple[Any, Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise DisclosureError(
            "--engine dask", "needs Dask's distributed scheduler", "pip install 'aidisclose[cloud]'"
        ) from None
    if scheduler:
        try:
            return Client(scheduler, timeout=30), None
        except OSError as exc:
            raise DisclosureError(scheduler, f"cannot reach the Dask scheduler: {exc}") from None
    cluster = LocalCluster(
        n_workers=max(1, jobs), threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    return Client(cluster), cluster


def _dask(
    work: Callable[[T], R],
    items: Iterable[T],
    jobs: int,
    scheduler: str | None,
    failed: Callable[[T, str], R] | None,
    batch_files: int,
) -> Iterator[R]:
    from distributed import as_completed

    client, cluster = _client(jobs, scheduler)
    run = uuid.uuid4().hex[:12]
    try:
        threads = max(1, sum(client.nthreads().values()))
        window = 2 * threads + 2  # batches in flight: every worker busy, one waiting each, memory bounded
        batches = iter(enumerate(_batched(items, batch_files)))
        held: dict[int, list[T]] = {}
        tries: dict[int, int] = {}
        ready: dict[int, list[R]] = {}
        owner: dict[Any, int] = {}
        waiting = as_completed()
        next_out = 0

        def send(index: int) -> None:
            key = f"aidisclose-{run}-{index}-{tries.get(index, 0)}"
            future = client.submit(_run_batch, work, held[index], key=key, pure=False)
            owner[future] = index
            waiting.add(future)

        def fill() -> None:
            while len(owner) < window:
                nxt = next(batches, None)
                if nxt is None:
                    return
                held[nxt[0]] = nxt[1]
                send(nxt[0])

        fill()
        for future in waiting:
            index = owner.pop(future)
            try:
                ready[index] = future.result()
            except Exception as exc:  # the batch's workers died (KilledWorker) or it could not be sent
                tries[index] = tries.get(index, 0) + 1
                if tries[index] <= RESENDS:
                    send(index)
                    continue
                if failed is None:
                    raise
                reason = f"its batch could not be run on the Dask cluster: {type(exc).__name__}: {exc}"
                ready[index] = [failed(item, reason) for item in held[index]]
            future.release()
            while next_out in ready:
                yield from ready.pop(next_out)
                held.pop(next_out, None)
                next_out += 1
            fill()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
