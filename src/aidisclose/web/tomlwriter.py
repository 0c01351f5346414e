"""A record as the TOML a person would write (`aidisclose init`'s layout): plain keys, then tables.

Only the shapes a record has are written: text, yes/no, numbers, moments and days as TOML's own date
and time values, lists of text inline, tables, and lists of tables (with their own tables below each).
"""

from __future__ import annotations

import datetime as dt
import re
from enum import Enum
from typing import Any

from ..record import DisclosureRecord

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


def _string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F or 0xD800 <= ord(char) <= 0xDFFF:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(name: str) -> str:
    return name if _BARE_KEY.fullmatch(name) else _string(name)


def _value(value: Any) -> str:
    if isinstance(value, Enum):
        return _value(value.value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, dt.time):
        return value.isoformat()
    return _string(str(value))  # nothing a TOML file can hold is left; anything else is shown as text


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _table(lines: list[str], name: str, data: dict[str, Any], header: str) -> None:
    lines += ["", header]
    plain = {k: v for k, v in data.items() if not isinstance(v, dict) and not _is_table_list(v)}
    lines += [f"{_key(k)} = {_value(v)}" for k, v in plain.items()]
    for key, value in data.items():
        if isinstance(value, dict):
            _table(lines, f"{name}.{_key(key)}", value, f"[{name}.{_key(key)}]")
        elif _is_table_list(value):
            for item in value:
                _table(lines, f"{name}.{_key(key)}", item, f"[[{name}.{_key(key)}]]")


def toml_text(data: dict[str, Any]) -> str:
    """``data`` (record data, valid or not) as TOML: plain keys first, then each table and list of tables."""
    lines = [f"{_key(k)} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict) and not _is_table_list(v)]
    for key, value in data.items():
        if isinstance(value, dict):
            _table(lines, _key(key), value, f"[{_key(key)}]")
        elif _is_table_list(value):
            for item in value:
                _table(lines, _key(key), item, f"[[{_key(key)}]]")
    return "\n".join(lines) + "\n"


def record_toml(record: DisclosureRecord) -> str:
    """A valid record as TOML, leaving out what is not set; read back, it is the same record."""
    data = record.model_dump(mode="python", exclude_none=True)
    return "# aidisclose disclosure record (schema_version 1), written by aidisclose serve\n" + toml_text(
        {k: v for k, v in data.items() if v != []}
    )
