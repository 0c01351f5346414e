"""The rich console text laid out for people is printed through (``console.LazyConsole`` makes it on first
need: JSON output and plain messages load no rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from .display import terminal_text


class TerminalConsole(Console):
    """A rich Console for text output: every string printed is shown as text, never as markup or control.

    Markup and emoji codes are off unless a call asks for markup (then untrusted parts must be
    ``rich.markup.escape``d); control, bidi and zero-width characters in any string printed, and in the
    string cells of a table, are shown by ``terminal_text`` (line feeds kept: a string from a file that
    must stay on one line is passed through ``terminal_text`` first). A ``rich.text.Text`` is printed as it
    is, so untrusted text is given as a string, or made into a Text with ``safe_text``.
    """

    def __init__(self, **options: Any) -> None:
        options.setdefault("markup", False)
        options.setdefault("emoji", False)
        options.setdefault("highlight", False)
        super().__init__(**options)

    def render_str(self, text: str, **options: Any) -> Text:
        return super().render_str(terminal_text(text, keep_newlines=True), **options)
