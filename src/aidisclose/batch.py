"""Folders at scale: walk files in a stable order, and map work over them in parallel, results in order.

Walking follows the same rules for every command: folders are walked
recursively in sorted order; hidden files and folders are left out; a sidecar
(``NAME.EXT.xmp``, ``NAME.EXT.c2pa``) is read with its media file, not on its
own; symlinks are not followed unless asked, and a link loop is detected;
special files (FIFOs, devices, sockets) are listed as skipped with a reason.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
SIDECAR_SUFFIXES = (".xmp", ".c2pa")


@dataclass(frozen=True)
class WalkOptions:
    include: tuple[str, ...] = ()  # glob patterns; a file must match one (relative path or name)
    exclude: tuple[str, ...] = ()  # glob patterns; a file matching one is left out
    follow_symlinks: bool = False


@dataclass(frozen=True)
class Item:
    """One file to work on, the folder it was found under (None if named), and why it is skipped if it is."""

    path: Path
    root: Path | None = None
    skip: str | None = None

    @property
    def named(self) -> bool:
        return self.root is None

    @property
    def relative(self) -> Path:
        return self.path.relative_to(self.root) if self.root else Path(self.path.name)


def _matches(relative: str, patterns: tuple[str, ...]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(relative, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def _is_sidecar(path: Path) -> bool:
    return path.suffix in SIDECAR_SUFFIXES and path.with_suffix("").exists()


def walk(paths: Iterable[Path], options: WalkOptions | None = None) -> Iterator[Item]:
    """Every file under ``paths`` in a stable order; named files are always yielded."""
    options = options or WalkOptions()
    for path in paths:
        if not path.is_dir():
            yield Item(path)
            continue
        yield from _walk_folder(path, options)


def _walk_folder(root: Path, options: WalkOptions) -> Iterator[Item]:
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        info = folder.stat()
        if (info.st_dev, info.st_ino) in seen:
            yield Item(folder, root, "a symlink loop: this folder was already walked")
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield Item(folder, root, f"cannot list the folder: {exc.strerror or exc}")
            continue
        folders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_symlink() and not options.follow_symlinks:
                yield Item(path, root, "a symlink, not followed (pass --follow-symlinks)")
                continue
            try:
                mode = entry.stat(follow_symlinks=True).st_mode
            except OSError as exc:
                yield Item(path, root, f"cannot read: {exc.strerror or exc}")
                continue
            if stat.S_ISDIR(mode):
                folders.append(path)
                continue
            relative = path.relative_to(root).as_posix()
            if options.include and not _matches(relative, options.include):
                continue
            if options.exclude and _matches(relative, options.exclude):
                continue
            if not stat.S_ISREG(mode):
                yield Item(path, root, "not a regular file (a FIFO, device or socket)")
            elif not _is_sidecar(path):
                yield Item(path, root)
        stack.extend(reversed(folders))  # depth first, in sorted order


def imap_in_order(work: Callable[[T], R], items: Iterable[T], jobs: int = 1) -> Iterator[R]:
    """``work`` over ``items`` on ``jobs`` processes, yielded in input order as they finish.

    At most a few batches per process are in flight, so memory does not grow with the number
    of items. ``work`` must be picklable (a module-level function or a partial of one).
    """
    if jobs <= 1:
        yield from map(work, items)
        return
    window = jobs * 4
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def map_in_order(
    work: Callable[[T], R],
    items: list[T],
    jobs: int = 1,
    on_result: Callable[[R], None] | None = None,
) -> list[R]:
    """As ``imap_in_order``, collected into a list; ``on_result`` sees each result as it comes."""
    results: list[R] = []
    for result in imap_in_order(work, items, jobs if len(items) > 1 else 1):
        results.append(result)
        if on_result:
            on_result(result)
    return results


def default_jobs() -> int:
    return os.cpu_count() or 1
