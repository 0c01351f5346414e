"""Text from outside aidisclose shown as data: record values for people, and any untrusted string made safe
for the output it goes into (a terminal, XML, CSV, JSON).

File names, metadata values, MediaInfo fields, box types and signers' names are
chosen by whoever made the file. Shown raw, a control character moves the
cursor, clears the line or sets the window title, a bidi override reverses what
follows, a zero-width character hides itself, and a name that is not UTF-8
cannot be written at all. Every output passes such text through the function
for its kind, once, where the output is produced:

- ``terminal_text`` for people at a terminal (``terminal.TerminalConsole`` does it
  for everything printed through it);
- ``xml_text`` for XML documents (JUnit);
- ``csv_cell`` for each CSV cell (formula injection, after OWASP);
- ``json_ready`` / ``model_json`` for JSON (file names that are not UTF-8).
"""

from __future__ import annotations

import base64
import json
import os
import re
import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

#: Unicode categories a terminal acts on or draws as nothing: controls (C0, DEL, C1), format characters
#: (bidi embeddings, overrides and isolates, zero-width spaces and joiners, the byte order mark, soft
#: hyphen, tags), lone surrogates (the bytes of a file name that is not UTF-8), line and paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _is_hidden(char: str) -> bool:
    return unicodedata.category(char) in _HIDDEN_CATEGORIES


def _shown(char: str) -> str:
    """``\\x1b``, ``\\n``, ``\\u202e``, ``\\udce9``, ``\\U000e0041``: the escape Python itself would write."""
    return ascii(char)[1:-1]


def _escape_hidden(text: str) -> str:
    return "".join(_shown(c) if _is_hidden(c) else c for c in text)


def terminal_text(text: str, keep_newlines: bool = False) -> str:
    """``text`` as a terminal can show it without acting on it: each hidden or control character as an escape.

    C0 and C1 controls and DEL (``\\x1b``, ``\\x07``, ``\\x9b``, and ``\\n``, ``\\r``, ``\\t``), bidi
    controls (U+202A-U+202E, U+2066-U+2069, ``\\u202e``), zero-width characters (U+200B-U+200F, U+2060,
    U+FEFF) and every other format character, the line and paragraph separators, and the lone surrogates
    ``os.fsdecode`` leaves for the bytes of a file name that is not UTF-8 (``\\udce9``) are written as
    Python writes them in a string literal. Everything else, accents and other scripts included, is kept.

    ``keep_newlines`` keeps line feeds, for text whose lines aidisclose laid out itself: a string that
    should be one line (a file name, a value) is passed without it, so that it cannot start a line of its own.
    """
    if text.isprintable():  # the common case, checked in C
        return text
    if keep_newlines:
        return "\n".join(_escape_hidden(line) for line in text.split("\n"))
    return _escape_hidden(text)


#: Candidates for ``xml_text``: anything but tab, LF, CR and printable ASCII (decided by ``_is_hidden``).
_NOT_PLAIN = re.compile("[^\t\n\r\x20-\x7e]")
#: Not characters at all to XML 1.0 (the Cs surrogates and C0 controls are hidden already).
_NOT_XML_CHARS = frozenset("\ufffe\uffff")


def xml_text(text: str) -> str:
    """``text`` (an attribute value, element text or a whole document) as XML 1.0 can hold it, shown visibly.

    The C0 controls XML forbids even as character references, lone surrogates, U+FFFE and U+FFFF, and the
    controls and invisible characters ``terminal_text`` shows become the same visible escapes (``\\x1b``);
    tab, LF and CR are kept for the serializer to encode. The escapes are plain ASCII, so a whole
    serialized document can be passed at once.
    """
    return _NOT_PLAIN.sub(lambda m: _shown(c) if _is_hidden(c := m.group()) or c in _NOT_XML_CHARS else c, text)


#: A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV Injection"; ASVS 1.2.10).
#: The other starts they name, tab, CR and NUL, are shown as ``\\t``, ``\\r``, ``\\x00`` before this is asked.
_FORMULA_START = ("=", "+", "-", "@")


def csv_cell(value: str) -> str:
    """One CSV cell that a spreadsheet shows as text: a leading ``= + - @`` gets a ``'`` (OWASP).

    The ``csv`` module quotes cells with separators, quotes and line breaks (RFC 4180). Control and
    invisible characters and the bytes of a file name that is not UTF-8 are shown as by ``terminal_text``
    (line breaks kept): a CSV is read in terminals too. The JSON report keeps every string exactly.
    """
    value = terminal_text(value, keep_newlines=True)
    return "'" + value if value.startswith(_FORMULA_START) else value


def utf8_text(text: str) -> str:
    """``text`` with the lone surrogates of a non-UTF-8 file name shown as ``\\udcXX``: it can be encoded."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(_shown(c) if "\ud800" <= c <= "\udfff" else c for c in text)
    return text


def raw_bytes_b64(text: str) -> str | None:
    """The bytes a file name stood for, base64, when they are not UTF-8 (``os.fsdecode`` surrogates); else None."""
    if utf8_text(text) is text:
        return None
    return base64.b64encode(os.fsencode(text)).decode("ascii")


def json_ready(data: Any) -> Any:
    """JSON-able ``data`` with every string valid UTF-8, losslessly: a string in an object that holds the
    bytes of a non-UTF-8 file name is shown with ``\\udcXX`` escapes, and ``<key>_bytes_b64`` beside it holds
    the bytes themselves, base64 (``path`` gets ``path_bytes_b64``)."""
    if isinstance(data, str):
        return utf8_text(data)
    if isinstance(data, list | tuple):
        return [json_ready(v) for v in data]
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out[utf8_text(str(key))] = json_ready(value)
            raw = raw_bytes_b64(value) if isinstance(value, str) else None
            if raw is not None:
                out[f"{key}_bytes_b64"] = raw
        return out
    return data


def json_dumps(data: Any, indent: int | None = None) -> str:
    """``json.dumps`` (UTF-8 text, not ASCII escapes), through ``json_ready`` when it holds a non-UTF-8 name."""
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    return text if utf8_text(text) is text else json.dumps(json_ready(data), indent=indent, ensure_ascii=False)


def model_json(model: BaseModel, indent: int | None = None) -> str:
    """``model.model_dump_json(indent=...)``, written by ``json_ready`` when it holds a non-UTF-8 file name."""
    from pydantic_core import PydanticSerializationError

    try:
        return model.model_dump_json(indent=indent)
    except PydanticSerializationError:  # surrogates have no UTF-8 form: the rare case pays for Python
        return json.dumps(json_ready(model.model_dump(mode="json")), indent=indent, ensure_ascii=False)


def show_value(value: Any) -> str:
    """A record value for people: objects as ``key: value`` lines, one list item per line.

    Each string from the file is shown by ``terminal_text``: the only line breaks are the layout's.
    """
    if isinstance(value, dict):
        return "\n".join(
            f"{terminal_text(str(k))}:\n  " + show_value(v).replace("\n", "\n  ")
            if isinstance(v, dict)
            else f"{terminal_text(str(k))}: {show_value(v)}"
            for k, v in value.items()
        )
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "; ".join(terminal_text(v) for v in value)
        return "\n".join("- " + show_value(v).replace("\n", "\n  ") for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    return terminal_text(str(value))
