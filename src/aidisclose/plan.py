"""The stamp plan: every file of a batch with its record and destination, checked before anything is written.

Each file's record is layered (``RecordLayers``): the base record, then its row
of a per-file manifest, then ``--set`` overrides. Its destination mirrors the
walked tree under ``--output``. A file whose record is invalid, whose output
folder would lead outside ``--output`` (a symlink) or whose destination another
file of the batch also maps to is refused here, by one line naming it, before
the first write of the batch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from .batch import Item, Outcome, WalkOptions, attempt, map_in_order, unworkable, walk
from .carriers.c2pa.identity import SigningIdentity
from .carriers.c2pa.manifest import REDACTABLE
from .errors import DisclosureError
from .record import (
    DisclosureRecord,
    ManifestRow,
    Origin,
    Override,
    RecordDraft,
    load_record_data,
    load_records_manifest,
    record_origin,
)
from .safewrite import Verify
from .stamp import StampResult, check_target_choice, stamp


def parse_redactions(text: str | None) -> frozenset[str]:
    """``"prompts, persons"`` as the set ``stamp`` takes, ``"none"`` as nothing; anything else is refused.

    Not given, both are left out: personal data goes into a signed manifest only when asked for.
    """
    if text is None:
        return REDACTABLE
    redactions = frozenset(p.strip() for p in text.split(",") if p.strip())
    if redactions == {"none"}:
        return frozenset()
    if not redactions:
        raise DisclosureError("--redact", "names nothing to leave out", "use prompts, persons, or none")
    if redactions - REDACTABLE:
        unknown = ", ".join(sorted(redactions - REDACTABLE))
        raise DisclosureError("--redact", f"{unknown} cannot be redacted", "use prompts, persons, or none")
    return redactions


@dataclass(frozen=True)
class RecordLayers:
    """Where each file's record comes from: a base record, its row of a manifest, then ``--set`` overrides.

    Each layer is laid over the one before as ``--set`` is, so a problem is
    told with the layer that set its field: the record's line, the manifest's
    row and column, or the ``--set`` option.
    """

    base: dict[str, Any] = field(default_factory=dict)
    base_path: Path | None = None
    base_origin: Origin | None = None  # the record file, with its TOML lines
    rows: dict[str, ManifestRow] = field(default_factory=dict)
    rows_path: Path | None = None
    overrides: tuple[Override, ...] = ()

    @classmethod
    def load(
        cls, record: Path | None = None, records: Path | None = None, overrides: Iterable[str] = ()
    ) -> RecordLayers:
        base, text = load_record_data(record) if record else ({}, None)
        rows = load_records_manifest(records) if records else {}
        parsed = tuple(Override.parse(item, index) for index, item in enumerate(overrides))
        if not record and not rows and not parsed:
            raise DisclosureError(
                "stamp", "no record given", "pass --record FILE, --records MANIFEST or --set field=value"
            )
        return cls(base, record, record_origin(record, text) if record else None, rows, records, parsed)

    def record_for(self, item: Item) -> DisclosureRecord:
        key = item.relative.as_posix()
        if self.rows_path and not self.base_path and key not in self.rows:
            raise DisclosureError(item.path, f"has no entry in {self.rows_path}", "add a row for it, or give --record")
        draft = RecordDraft.start(self.base, self.base_origin)
        if key in self.rows:
            self.rows[key].lay_on(draft)
        for override in self.overrides:
            override.lay_on(draft)
        return draft.validate(item.path)

    def unused_rows(self, items: Iterable[Item]) -> list[DisclosureError]:
        """Rows of the manifest for no file of the batch: a mistyped path must not pass unseen."""
        keys = {item.relative.as_posix() for item in items}
        return [
            DisclosureError(
                self.rows_path,
                f"{row.place} is for {row.key}, which is not among the files stamped",
                "paths are relative to the folder given",
            )
            for key, row in self.rows.items()
            if key not in keys
        ]


@dataclass(frozen=True)
class StampOptions:
    """How a batch is stamped: where the files go, whether to sign, how to check."""

    output_dir: Path | None = None
    in_place: bool = False
    overwrite: bool = False
    verify: Verify = Verify.touched
    signing: SigningIdentity | None = None
    redact: frozenset[str] = REDACTABLE
    dry_run: bool = False
    replace_standard: bool = False
    id3v2_version: int | None = None
    discard_credentials: bool = False  # stamp files with C2PA credentials without signing, breaking them

    def __post_init__(self) -> None:
        check_target_choice(self.output_dir, self.in_place)


@dataclass(frozen=True)
class StampJob:
    """One file to stamp: its record and the folder its copy goes to (None when stamped in place)."""

    item: Item
    record: DisclosureRecord
    folder: Path | None

    @property
    def destination(self) -> Path:
        return self.folder / self.item.path.name if self.folder is not None else self.item.path


@dataclass(frozen=True)
class StampPlan:
    options: StampOptions
    items: tuple[Item, ...]  # everything the walk met, skipped entries included
    jobs: tuple[StampJob, ...]
    refused: tuple[Outcome[StampResult], ...]  # files refused while planning, each with its one line
    repeated: tuple[Outcome[StampResult], ...] = ()  # a file named again (or by a hard link): stamped once, skipped


def _folder_for(item: Item, output: Path | None) -> Path | None:
    if output is None:
        return None
    folder = output / item.relative.parent
    if not folder.resolve().is_relative_to(output.resolve()):
        raise DisclosureError(item.path, f"its output folder {folder} leads outside {output} (a symlink)")
    return folder


def plan_stamp(
    paths: Iterable[Path], layers: RecordLayers, options: StampOptions, walk_options: WalkOptions | None = None
) -> StampPlan:
    """Walk ``paths`` and plan each file; nothing is written."""
    walk_options = walk_options or WalkOptions()
    if options.output_dir is not None:  # never stamp the copies again when --output lies inside an input folder
        left_out = (options.output_dir, "the --output folder: not walked")
        walk_options = replace(walk_options, leave_out=(*walk_options.leave_out, left_out))
    items = tuple(walk(paths, walk_options))
    jobs: list[StampJob] = []
    refused: list[Outcome[StampResult]] = []
    for item in items:
        early = unworkable(item)
        if early is not None:  # skipped, listed with the walk's items; or an error of the batch
            if early.error:
                refused.append(early)
            continue
        try:
            jobs.append(StampJob(item, layers.record_for(item), _folder_for(item, options.output_dir)))
        except DisclosureError as err:
            refused.append(Outcome(item.path, error=err.lines()))
    for unused in layers.unused_rows(items):
        refused.append(Outcome(layers.rows_path or Path(), error=unused.lines()))
    jobs, collisions, repeated = _without_collisions(jobs)
    return StampPlan(options, items, tuple(jobs), tuple(refused + collisions), tuple(repeated))


def _file_identity(path: Path) -> object:
    """What makes two names one file: device and inode (hard links too), or the resolved path of a missing one."""
    try:
        info = path.stat()
    except OSError:  # missing, or a symlink loop (which resolve() would raise on): the path as written
        return Path(os.path.abspath(path))
    return info.st_dev, info.st_ino


def _without_collisions(
    jobs: list[StampJob],
) -> tuple[list[StampJob], list[Outcome[StampResult]], list[Outcome[StampResult]]]:
    """Files that two or more inputs would be written to are refused, every one of those inputs.

    The same file to the same place (named twice, by a hard link, or met in its folder) is one job;
    each later name of it is returned as skipped, so the summary accounts for every name given.
    """
    first: dict[tuple[object, object], StampJob] = {}
    repeated = []
    for job in jobs:
        kept = first.setdefault((_file_identity(job.item.path), _file_identity(job.destination)), job)
        if kept is not job:
            same = "named more than once" if job.item.path == kept.item.path else f"the same file as {kept.item.path}"
            line = f"{job.item.path}: {same}; stamped once"
            repeated.append(Outcome[StampResult](job.item.path, skipped=line))
    by_destination: dict[object, list[StampJob]] = {}
    for (_, destination), job in first.items():
        by_destination.setdefault(destination, []).append(job)
    refused = []
    for sharing in by_destination.values():
        if len(sharing) > 1:
            names = ", ".join(str(j.item.path) for j in sharing)
            for job in sharing:
                reason = f"{names} would all be written to {sharing[0].destination}; none of them was stamped"
                refused.append(
                    Outcome[StampResult](
                        job.item.path,
                        error=DisclosureError(
                            job.item.path, reason, "rename one, or stamp them into different --output folders"
                        ).one_line(),
                    )
                )
    kept_jobs = [job for (_, destination), job in first.items() if len(by_destination[destination]) == 1]
    return kept_jobs, refused, repeated


def stamp_job(job: StampJob, options: StampOptions) -> Outcome[StampResult]:
    """One planned file, for process pools: never raises."""
    return attempt(
        partial(
            stamp,
            record=job.record,
            output_dir=job.folder,
            in_place=options.in_place,
            overwrite=options.overwrite,
            verify=options.verify,
            signing=options.signing,
            redact=options.redact,
            dry_run=options.dry_run,
            replace_standard=options.replace_standard,
            id3v2_version=options.id3v2_version,
            discard_credentials=options.discard_credentials,
        ),
        job.item,
    )


def run_plan(
    plan: StampPlan, jobs: int = 1, on_outcome: Callable[[Outcome[StampResult]], None] | None = None
) -> list[Outcome[StampResult]]:
    """Stamp every planned file on ``jobs`` processes; the outcomes in plan order."""
    return map_in_order(partial(stamp_job, options=plan.options), list(plan.jobs), jobs, on_outcome)
