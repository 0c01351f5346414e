"""Standard output and error for people: plain messages written directly, laid-out text through rich."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .display import terminal_text

if TYPE_CHECKING:
    from .terminal import TerminalConsole


class LazyConsole:
    """Standard output or error for people, through a ``TerminalConsole`` made on first need.

    Plain text (no markup, no style) is written directly, exactly as that console writes it (shown by
    ``terminal_text``, line feeds kept, no wrapping): a call that prints only such messages loads no rich.
    """

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._rich: TerminalConsole | None = None

    @property
    def rich(self) -> TerminalConsole:
        if self._rich is None:
            from .terminal import TerminalConsole

            self._rich = TerminalConsole(stderr=self._stderr, soft_wrap=True)
        return self._rich

    @property
    def is_terminal(self) -> bool:
        return self.rich.is_terminal

    def print(self, *objects: Any, markup: bool = False, highlight: bool = False, **options: Any) -> None:
        plain = not (markup or highlight) and set(options) <= {"end"} and all(type(o) is str for o in objects)
        if not plain:
            self.rich.print(*objects, markup=markup, highlight=highlight, **options)
            return
        stream = sys.stderr if self._stderr else sys.stdout
        stream.write(terminal_text(" ".join(objects), keep_newlines=True) + options.get("end", "\n"))
