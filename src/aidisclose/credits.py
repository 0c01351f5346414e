"""End credits for a delivery: the AI credit lines and AI systems of every file, grouped and de-duplicated."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from .batch import Item, Outcome, WalkOptions, imap_in_order, item_size, walk
from .display import csv_cell, terminal_text
from .inspect import InspectResult, inspect_item


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class CreditLine(_Model):
    text: str
    files: list[str]


class SystemCredit(_Model):
    name: str
    provider: str | None
    versions: list[str]
    purposes: list[str]
    files: list[str]


class Credits(_Model):
    files: int
    files_with_ai: int
    credit_lines: list[CreditLine]
    systems: list[SystemCredit]
    unreadable: list[str]
    skipped: list[str] = []  # "PATH: reason" of each entry met but not read (not media, hidden, ...)


def _key(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _inspect_for_credits(item: Item) -> Outcome[InspectResult]:
    return inspect_item(item, technical=False)


@dataclass
class _System:
    name: str
    provider: str | None
    versions: set[str] = field(default_factory=set)
    purposes: set[str] = field(default_factory=set)
    files: list[str] = field(default_factory=list)


def collect_credits(
    paths: Iterable[Path],
    options: WalkOptions | None = None,
    jobs: int = 1,
    outcomes: Iterable[Outcome[InspectResult]] | None = None,
) -> Credits:
    """Read every file (in parallel) and merge what it credits; the same credit from many files is listed once.

    Only files that declare AI use (``ai_used``) are credited: a photographer's credit line in a file
    that says nothing of AI is not an AI credit. ``outcomes`` are files already read (say, objects in
    storage on a Dask cluster), in place of walking ``paths``.
    """
    lines: dict[str, tuple[str, list[str]]] = {}
    systems: dict[tuple[str, str], _System] = {}
    with_ai = read = 0
    unreadable: list[str] = []
    skipped: list[str] = []
    if outcomes is None:
        outcomes = imap_in_order(_inspect_for_credits, walk(paths, options), jobs, item_size)
    for outcome in outcomes:
        if outcome.error:
            unreadable.append(outcome.error)
        if outcome.skipped:
            skipped.append(outcome.skipped)
        if outcome.result is None:
            continue
        read += 1
        record, path = outcome.result.record, outcome.result.path  # a URL stays a URL
        if record.ai_used is not True:
            continue
        with_ai += 1
        if record.ai_credit_line:
            lines.setdefault(_key(record.ai_credit_line), (record.ai_credit_line.strip(), []))[1].append(path)
        for system in record.ai_systems:
            entry = systems.setdefault(
                (_key(system.name), _key(system.provider)), _System(system.name, system.provider)
            )
            entry.versions.update([system.version] if system.version else [])
            entry.purposes.update([system.purpose] if system.purpose else [])
            if path not in entry.files:
                entry.files.append(path)
    return Credits(
        files=read,
        files_with_ai=with_ai,
        credit_lines=[CreditLine(text=t, files=f) for t, f in sorted(lines.values(), key=lambda v: (-len(v[1]), v[0]))],
        systems=[
            SystemCredit(
                name=e.name,
                provider=e.provider,
                versions=sorted(e.versions),
                purposes=sorted(e.purposes),
                files=e.files,
            )
            for e in sorted(systems.values(), key=lambda e: e.name.casefold())
        ],
        unreadable=unreadable,
        skipped=skipped,
    )


def credits_text(credits: Credits) -> str:
    """The end-credits list for people; every credit line, name and purpose on its own line, shown as text."""
    out = [f"AI credits ({credits.files_with_ai} of {credits.files} file(s) made with AI)", ""]
    for line in credits.credit_lines:
        out.append(f"  {terminal_text(line.text)}   [{len(line.files)} file(s)]")
    if credits.systems:
        out += ["", "AI systems used"]
    for system in credits.systems:
        label = system.name + (f" {', '.join(system.versions)}" if system.versions else "")
        label += f" ({system.provider})" if system.provider else ""
        purpose = f" - {'; '.join(system.purposes)}" if system.purposes else ""
        out.append(f"  {terminal_text(label + purpose)}   [{len(system.files)} file(s)]")
    if credits.skipped:
        out += ["", f"Skipped ({len(credits.skipped)}, not read)"]
    out += [f"  {terminal_text(entry)}" for entry in credits.skipped]
    return "\n".join(out) + "\n"


def credits_csv(credits: Credits) -> str:
    """One row per credit line and AI system; every cell through ``csv_cell`` (no formula runs)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["kind", "text", "provider", "versions", "purposes", "file_count", "files"])
    for line in credits.credit_lines:
        writer.writerow(_cells(["credit_line", line.text, "", "", "", len(line.files), ";".join(line.files)]))
    for s in credits.systems:
        row = ["ai_system", s.name, s.provider or "", ";".join(s.versions), ";".join(s.purposes)]
        writer.writerow(_cells([*row, len(s.files), ";".join(s.files)]))
    for entry in credits.skipped:
        writer.writerow(_cells(["skipped", entry, "", "", "", "", ""]))
    return buffer.getvalue()


def _cells(row: list[str | int]) -> list[str | int]:
    return [csv_cell(v) if isinstance(v, str) else v for v in row]
