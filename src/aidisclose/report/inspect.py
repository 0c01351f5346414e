"""The output of `aidisclose inspect`: text for people, JSON (with a published schema) for scripts.

Both are written file by file as results arrive, so memory stays flat however
many files there are. Values from files are shown as text, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict
from rich.markup import escape

from .._version import __version__
from ..batch import Outcome
from ..carriers.base import Carrier
from ..carriers.c2pa.reading import UNTRUSTED, C2paState
from ..display import TerminalConsole, json_dumps, show_value, terminal_text
from ..inspect import InspectResult


class InspectProblem(BaseModel):
    path: str
    error: str | None = None
    reason: str | None = None


class InspectReport(BaseModel):
    """The JSON output of `aidisclose inspect --format json` (see `aidisclose schema --inspect`)."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"$id": "https://aidisclose.org/schema/inspect/1.json"})

    tool_version: str = __version__
    files: list[InspectResult]
    errors: list[InspectProblem]
    skipped: list[InspectProblem]


def inspect_json_schema() -> dict[str, Any]:
    return InspectReport.model_json_schema()


def write_inspect_json(outcomes: Iterable[Outcome[InspectResult]], stream: TextIO) -> tuple[int, int]:
    """The InspectReport, each file written as it comes; returns (files read, errors)."""
    errors: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    stream.write(f'{{\n  "tool_version": {json_dumps(__version__)},\n  "files": [')
    written = 0
    for outcome in outcomes:
        if outcome.error:
            errors.append({"path": str(outcome.path), "error": outcome.error})
        elif outcome.skipped:
            skipped.append({"path": str(outcome.path), "reason": outcome.skipped})
        elif outcome.result is not None:
            text = json_dumps(outcome.result.to_json_dict(), indent=2)
            stream.write(("," if written else "") + "\n" + text)
            written += 1
    tail = json_dumps({"errors": errors, "skipped": skipped}, indent=2)
    stream.write("\n  ],\n" + tail[2:] + "\n")
    return written, len(errors)


def technical_line(facts: dict[str, Any]) -> str:
    """``MPEG-4, 0.5 s; video MPEG-4 Visual 64x48 10 fps; audio AAC 22050 Hz 1 ch``."""
    if "error" in facts:
        return str(facts["error"])
    head = str(facts.get("container", ""))
    if "duration_ms" in facts:
        head += f", {facts['duration_ms'] / 1000:g} s"
    parts = [head.lstrip(", ")] if head else []
    for track in facts.get("tracks", []):
        bits = [track["type"], str(track.get("codec", "?"))]
        if "width" in track:
            bits.append(f"{track['width']}x{track.get('height', '?')}")
        if "frame_rate" in track and track["type"] == "video":
            bits.append(f"{track['frame_rate']:g} fps")
        if "sample_rate" in track:
            bits.append(f"{track['sample_rate']} Hz {track.get('channels', '?')} ch")
        parts.append(" ".join(bits))
    return "; ".join(parts)


def short_source(label: str) -> str:
    """``xmp:Xmp.iptcExt.AISystemUsed`` -> ``iptcExt:AISystemUsed`` (JSON output keeps the full label)."""
    carrier, _, key = label.partition(":")
    parts = key.split(".")
    if carrier == Carrier.XMP and len(parts) == 3:
        prefix = {"iptcExt": "Iptc4xmpExt"}.get(parts[1], parts[1])
        return f"{prefix}:{parts[2]}"
    return f"IIM {parts[-1]}" if carrier == Carrier.IIM else label


_STATE_COLOUR = {
    C2paState.TRUSTED: "green",
    C2paState.VALID: "green",
    C2paState.INVALID: "red",
    C2paState.REMOTE: "yellow",
}


def write_inspect_text(result: InspectResult, console: TerminalConsole) -> None:
    """One file's record for people: where each value came from, conflicts, ignored values, C2PA."""
    prov = result.provenance
    carriers = ", ".join(prov.carriers) or "none"
    stamped = "stamped by aidisclose" if prov.stamped_by_aidisclose else "not stamped by aidisclose"
    path = escape(terminal_text(result.path))
    console.print(f"[bold]{path}[/bold]  {result.format}, {result.size} bytes, {stamped}", markup=True)
    if prov.sidecar:
        carriers += f" (from the sidecar {terminal_text(prov.sidecar)})"
    console.print(f"  carriers: {carriers}   sha256: {result.sha256}")
    facts = technical_line(prov.technical)
    if facts:
        console.print(f"  media: {terminal_text(facts)}")
    _c2pa_lines(result, console)
    values = result.record.to_json_dict()
    values.pop("schema_version", None)
    if not values:
        console.print("  no disclosure metadata found")
    else:
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("field")
        table.add_column("value", overflow="fold")
        table.add_column("from", style="dim", no_wrap=True)
        for name, value in values.items():
            table.add_row(name, show_value(value), terminal_text(short_source(prov.sources.get(name, ""))))
        console.print(table, markup=False)
    for c in prov.conflicts:
        console.print(
            f"  [yellow]conflict[/yellow] {escape(c.field)}: {escape(terminal_text(short_source(c.source)))} says "
            f"{escape(repr(show_value(c.value)))}, {escape(terminal_text(short_source(c.other_source)))} says "
            f"{escape(repr(show_value(c.other_value)))}",
            markup=True,
        )
    for p in prov.problems:
        console.print(
            f"  [yellow]ignored[/yellow] {escape(p.field)} from {escape(terminal_text(short_source(p.source)))}: "
            f"{escape(repr(show_value(p.value)))} ({escape(terminal_text(p.reason))})",
            markup=True,
        )
    console.print()


def _c2pa_lines(result: InspectResult, console: TerminalConsole) -> None:
    c2pa = result.c2pa
    if c2pa.state is C2paState.NONE:
        return
    colour = _STATE_COLOUR[c2pa.state]
    if c2pa.state is C2paState.REMOTE:
        url = terminal_text(str(c2pa.remote_url))
        console.print(f"  c2pa: [{colour}]remote[/{colour}]{escape(f' at {url}, not fetched')}", markup=True)
        return
    who = terminal_text(str(c2pa.signer.get("common_name", "?")))
    where = f" in {terminal_text(c2pa.sidecar)}" if c2pa.sidecar else ""
    untrusted = " (signer not trusted: give --trust)" if c2pa.state is C2paState.VALID and not c2pa.trusted_by else ""
    label = c2pa.state.value + untrusted
    when = f" at {terminal_text(c2pa.signed_at)}" if c2pa.signed_at else ""
    console.print(f"  c2pa: [{colour}]{label}[/{colour}]{escape(f'{where}, signed by {who}{when}')}", markup=True)
    if c2pa.trusted_by:
        console.print(f"        signer trusted by {terminal_text(c2pa.trusted_by)}")
    if c2pa.timestamp:
        by = f", by {c2pa.timestamp_trusted_by}" if c2pa.timestamp_trusted_by else ""
        console.print(f"        time-stamp: {terminal_text(c2pa.timestamp + by)}")
    if c2pa.revocation and c2pa.revocation != "not checked":
        console.print(f"        revocation (OCSP): {terminal_text(c2pa.revocation)}")
    if c2pa.message:
        console.print(f"        {terminal_text(c2pa.message)} ({terminal_text(', '.join(c2pa.codes))})")
    if c2pa.validation.informational:
        console.print(f"        informational: {terminal_text(', '.join(c2pa.validation.informational))}")
    earlier = [i for i in c2pa.ingredients if i.active_manifest is not None]
    if earlier:
        console.print(f"        {len(earlier)} earlier manifest(s) kept as ingredients")
    for ingredient in earlier:
        trust = " (signer not trusted)" if ingredient.state is C2paState.VALID else ""
        failures = [c for c in ingredient.validation.failure if c != UNTRUSTED]
        detail = f" ({', '.join(failures)})" if failures else ""
        line = (
            f"        ingredient {ingredient.title or '?'} ({ingredient.relationship or '?'}): "
            f"{ingredient.state.value}{trust}, signed by {ingredient.signer.get('common_name', '?')}{detail}"
        )
        console.print(terminal_text(line))
        if ingredient.trusted_by:
            console.print(f"          signer trusted by {terminal_text(ingredient.trusted_by)}")
