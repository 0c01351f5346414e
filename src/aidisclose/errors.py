"""The one domain exception: a file or input aidisclose cannot work with."""

from __future__ import annotations

from pathlib import Path


class DisclosureError(Exception):
    """A problem with one input, told as a single line: what, why, what to do."""

    def __init__(self, subject: str | Path | None, reason: str, hint: str | None = None) -> None:
        self.subject = str(subject) if subject is not None else None
        self.reason = reason
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        text = f"{self.subject}: {self.reason}" if self.subject else self.reason
        # Keep it on one line whatever the underlying library said.
        text = " ".join(text.split())
        if self.hint:
            text += f" ({self.hint})"
        return text


class UnsupportedFormat(DisclosureError):
    """The file's content is not a format aidisclose reads (told apart from damaged files)."""
