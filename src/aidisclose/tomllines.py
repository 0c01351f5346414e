"""Line numbers of keys in a TOML text, so errors about records and policies can say where; and how deep they nest."""

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


#: How deep lists and tables may nest in a record or policy: far more than either needs, and well inside
#: what Python's recursive parsers (tomllib, json) and copies can take without overflowing the stack.
MAX_NESTING = 32

_MARK = re.compile(r"[\[\]{}#\"'\n.=,]")
_STRING_ENDS = {  # what ends each kind of string; a backslash escapes the next character in basic strings
    '"""': re.compile(r'\\.|"""', re.DOTALL),
    "'''": re.compile(r"'''"),
    '"': re.compile(r'\\.|"|\n', re.DOTALL),
    "'": re.compile(r"'|\n"),
}


def too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The line where tables or lists in a TOML or JSON ``text`` first nest deeper than ``limit``, or None.

    Read before parsing, in one linear pass, so a hostile file is refused rather than left to parsers
    that recurse (and run out of stack) or, for a long dotted key ``a.b.c...``, take time and memory
    growing with its square. Brackets and dots inside strings and comments are not counted; a table
    header such as ``[[rules]]`` opens and closes on its line; a number or date has at most one dot.
    """
    depth, dots, index = 0, 0, 0
    while (mark := _MARK.search(text, index)) is not None:
        char, index = mark.group(), mark.end()
        if char in "\"'":
            index = _string_end(text, mark.start())  # a quoted part of a dotted key keeps the count
            continue
        if char == ".":
            dots += 1
            if dots > limit:
                return text.count("\n", 0, index) + 1
            continue
        dots = 0
        if char in "[{":
            depth += 1
            if depth > limit:
                return text.count("\n", 0, index) + 1
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "#":
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
    return None


def key_name(path: tuple[str | int, ...], parts: int = 3) -> str:
    """``path`` written as a dotted key for a message, its first ``parts`` parts at most."""
    return ".".join(map(str, path[:parts])) + (".." if len(path) > parts else "")


def _string_end(text: str, start: int) -> int:
    """Just after the string that starts at ``start`` (at its line's end if unclosed: the parser says so)."""
    quote = text[start]
    opener = quote * 3 if text.startswith(quote * 3, start) else quote
    index = start + len(opener)
    while (found := _STRING_ENDS[opener].search(text, index)) is not None:
        index = found.end()
        if not found.group().startswith("\\"):
            return index
    return len(text)


def deepest_path(data: Any, limit: int = MAX_NESTING) -> tuple[str | int, ...] | None:
    """The key path of the first value nested deeper than ``limit`` in parsed ``data``, or None.

    Dotted TOML keys (``a.b.c = 1``) nest without brackets, so parsed data is measured too, without
    recursion.
    """
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), data)]
    while stack:
        path, value = stack.pop()
        children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, child in children:
            if len(path) >= limit:
                return (*path, key)
            stack.append(((*path, key), child))
    return None


def key_above(lines: Mapping[tuple[str | int, ...], int], line: int) -> tuple[str | int, ...] | None:
    """The key path written last on or before ``line``: the key a value on that line belongs to."""
    above = [(number, path) for path, number in lines.items() if number <= line]
    return max(above, key=lambda found: found[0])[1] if above else None
