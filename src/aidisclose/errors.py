"""The one domain exception: a file or input aidisclose cannot work with."""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class DisclosureError(Exception):
    """A problem with one input, told as a single line: what, why, what to do.

    An input with several problems (a record) is still one error: its line
    names the input and how many problems it has, and ``problems`` holds one
    line for each.
    """

    def __init__(
        self, subject: str | Path | None, reason: str, hint: str | None = None, problems: tuple[str, ...] = ()
    ) -> None:
        self.subject = str(subject) if subject is not None else None
        self.reason = reason
        self.hint = hint
        self.problems = tuple(" ".join(p.split()) for p in problems)
        super().__init__(self.one_line())

    def about(self, subject: str | Path) -> DisclosureError:
        """The same error told of ``subject``: a temporary copy's error, named by the file the user gave."""
        return type(self)(subject, self.reason, self.hint, self.problems)

    def one_line(self) -> str:
        """Everything on one line, the problems after the reason: for rows of reports and logs."""
        text = self._headline()
        return f"{text}: {'; '.join(self.problems)}" if self.problems else text

    def lines(self) -> str:
        """The headline, then one indented line per problem: for people reading a terminal."""
        return "\n".join([self._headline(), *(f"  {p}" for p in self.problems)])

    def _headline(self) -> str:
        text = f"{self.subject}: {self.reason}" if self.subject else self.reason
        # Keep it on one line whatever the underlying library said.
        text = " ".join(text.split())
        if self.hint:
            text += f" ({self.hint})"
        return text


class UnsupportedFormat(DisclosureError):
    """The file's content is not a format aidisclose reads (told apart from damaged files)."""


_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def os_errors_reported(doing: str, writes: bool = False) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a function whose first argument is a path: an OSError in it becomes a DisclosureError.

    Disk full, a permission lost mid-run, an I/O error: one line naming the
    file, never a traceback. Writers (``writes``) leave the file unchanged when
    they fail (temp file or rollback journal), so the line says so.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except OSError as exc:
                subject = args[0] if args and isinstance(args[0], (str, Path)) else exc.filename
                reason = f"{doing} failed: {exc.strerror or exc}" + ("; nothing was changed" if writes else "")
                hint = "free space on that disk or raise the quota, then run again" if exc.errno in _NO_ROOM else ""
                raise DisclosureError(subject, reason, hint) from None

        return wrapper

    return decorate


def unexpected(subject: str | Path, exc: BaseException) -> str:
    """The one line for an exception aidisclose did not expect: a bug, told without a traceback."""
    return DisclosureError(
        subject, f"unexpected {type(exc).__name__}: {exc}", "a bug in aidisclose: please report it with this file"
    ).one_line()
