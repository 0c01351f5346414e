"""The output of `aidisclose inspect` for people: where each value came from, conflicts, ignored values, C2PA.

Values from files are shown as text, never as markup. (Kept apart from the JSON output, which loads no rich.)
"""

from __future__ import annotations

import textwrap
from typing import Any

from rich.markup import escape
from rich.text import Text

from ..carriers.base import Carrier
from ..carriers.c2pa.reading import UNTRUSTED, C2paState
from ..chinalabel import LABEL_MEANINGS
from ..display import show_value, terminal_text
from ..inspect import InspectResult
from ..terminal import TerminalConsole


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
    if carrier == Carrier.IIM:
        return f"IIM {parts[-1]}"
    # ``vorbis:AIDISCLOSE_RECORD/title``: the field is the line's own; the packed record is the source
    return label.partition("/")[0]


_STATE_COLOUR = {
    C2paState.TRUSTED: "green",
    C2paState.VALID: "green",
    C2paState.INVALID: "red",
    C2paState.REMOTE: "yellow",
}
#: The value column is never narrower than this, however narrow the terminal.
_MIN_VALUE_WIDTH = 30
_INDENT = "  "


def wrap_value(text: str, width: int) -> list[str]:
    """``show_value`` text in lines of at most ``width``: a wrapped line keeps its own indentation,
    and the continuation of a list item or a ``key: value`` line hangs under its text."""
    lines: list[str] = []
    for line in text.split("\n") or [""]:
        body = line.lstrip(" ")
        lead = len(line) - len(body)
        hang = lead + 2 if body.startswith("- ") or ": " in body else lead
        pieces = textwrap.wrap(
            line, width=max(width, hang + 10), subsequent_indent=" " * hang, break_on_hyphens=False
        )
        lines.extend(pieces or [line])
    return lines


def record_lines(values: dict[str, Any], sources: dict[str, str], width: int) -> list[Text]:
    """The record as ``field  value  source`` lines that fit ``width`` columns.

    Values take all the room between the field names and the edge; each field's source follows
    its first line, right-aligned and dim, or has a line of its own when the value leaves no room.
    """
    name_width = max(map(len, values))
    value_width = max(width - len(_INDENT) - name_width - 2, _MIN_VALUE_WIDTH)
    blank = " " * (len(_INDENT) + name_width + 2)
    out: list[Text] = []
    for name, value in values.items():
        lines = wrap_value(show_value(value), value_width)
        source = terminal_text(short_source(sources.get(name, "")))
        first = Text(f"{_INDENT}{name:<{name_width}}  {lines[0]}")
        room = len(_INDENT) + name_width + 2 + value_width - len(first.plain)
        if source and len(source) + 2 <= room:
            first.append(" " * (room - len(source)) + source, style="dim")
            source = ""
        out.append(first)
        out.extend(Text(blank + line) for line in lines[1:])
        if source:
            out.append(Text(" " * max(width - len(source), len(blank)) + source, style="dim"))
    return out


def _said(label: str, source: str, value: Any, width: int) -> list[Text]:
    """``  conflict field: SOURCE says VALUE``, a multi-line value indented under its first line."""
    head = f"{_INDENT}{label} "
    lines = wrap_value(show_value(value), max(width - len(head) - 2, _MIN_VALUE_WIDTH))
    text = Text(head)
    text.append(f"{terminal_text(short_source(source))} says ", style="dim")
    if len(text.plain) + len(lines[0]) > width:
        return [text, *(Text(" " * (len(head) + 2) + line) for line in lines)]
    text.append(lines[0])
    return [text, *(Text(" " * (len(head) + 2) + line) for line in lines[1:])]


def write_inspect_text(result: InspectResult, console: TerminalConsole) -> None:
    """One file's record for people: where each value came from, conflicts, ignored values, C2PA."""
    prov = result.provenance
    width = max(int(console.width), _MIN_VALUE_WIDTH + 24)
    carriers = ", ".join(prov.carriers) or "none"
    stamped = "stamped by aidisclose" if prov.stamped_by_aidisclose else "not stamped by aidisclose"
    path = escape(terminal_text(result.path))
    rest = escape(terminal_text(f"  {result.format}, {result.size} bytes, {stamped}"))  # data, as the path is
    console.print(f"[bold]{path}[/bold]{rest}", markup=True)
    if prov.sidecar:
        carriers += f" (from the sidecar {terminal_text(prov.sidecar)})"
    console.print(f"  carriers: {carriers}")
    console.print(f"  sha256: {result.sha256 or 'not computed (--digest none)'}")
    facts = technical_line(prov.technical)
    if facts:
        console.print(f"  media: {terminal_text(facts)}")
    _c2pa_lines(result, console)
    values = result.record.to_json_dict()
    values.pop("schema_version", None)
    lines = record_lines(values, prov.sources, width) if values else [Text("  no disclosure metadata found")]
    lines += _china_label_lines(result, width)
    for c in prov.conflicts:
        label = Text.assemble(_INDENT, ("conflict", "yellow"), f" {c.field}")
        lines.append(label)
        lines += _said("   ", c.source, c.value, width) + _said("   ", c.other_source, c.other_value, width)
    for p in prov.problems:
        lines.append(Text.assemble(_INDENT, ("invalid", "yellow"), f" {p.field} ({terminal_text(p.reason)}); not used"))
        lines += _said("   ", p.source, p.value, width)
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    console.print()


def _china_label_lines(result: InspectResult, width: int) -> list[Text]:
    """China's implicit label (GB 45438-2025) as each carrier holds it: its keys that hold text, and the carrier."""
    label = result.provenance.china_label
    if label is None:
        return []
    out: list[Text] = []
    for reading in label.readings:
        shown = {k: v for k, v in reading.fields.items() if v.strip()}
        if "Label" in shown and shown["Label"] in LABEL_MEANINGS:
            shown["Label"] += f" ({LABEL_MEANINGS[shown['Label']]})"
        out += record_lines({"china label": shown or "(empty)"}, {"china label": reading.source}, width)
    return out


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
    if c2pa.actions:
        actions = ", ".join(str(a.get("action", "?")) for a in c2pa.actions)
        console.print(f"        actions: {terminal_text(actions)}")
    if c2pa.digital_source_types:
        console.print(f"        source type: {terminal_text(', '.join(dict.fromkeys(c2pa.digital_source_types)))}")
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
