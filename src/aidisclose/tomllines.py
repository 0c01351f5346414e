"""Line numbers of keys in a TOML text, so errors about records and policies can say where."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_TABLE = re.compile(r"^\[\[?\s*([^\]]+?)\s*\]\]?")
_KEY = re.compile(r"^([A-Za-z0-9_\-.\"' ]+?)\s*=")


def toml_key_lines(text: str) -> dict[tuple[str | int, ...], int]:
    """Map each key path in a TOML text to its line number, for error messages."""
    lines: dict[tuple[str | int, ...], int] = {}
    table: tuple[str | int, ...] = ()
    array_counts: dict[tuple[str, ...], int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        match = _TABLE.match(stripped)
        if match:
            names = tuple(p.strip().strip("\"'") for p in match.group(1).split("."))
            if stripped.startswith("[["):
                index = array_counts.get(names, -1) + 1
                array_counts[names] = index
                table = (*names, index)
            else:
                table = names
            lines.setdefault(table, number)
            continue
        match = _KEY.match(stripped)
        if match:
            key = tuple(p.strip().strip("\"'") for p in match.group(1).split("."))
            lines.setdefault((*table, *key), number)
    return lines


def line_for(loc: tuple[Any, ...], lines: Mapping[tuple[str | int, ...], int]) -> int | None:
    """The line of the key at ``loc``, else of the first key written under it, else of its parent."""
    if loc in lines:
        return lines[loc]
    below = [line for path, line in lines.items() if path[: len(loc)] == loc]
    if below:
        return min(below)
    for end in range(len(loc) - 1, 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
