"""The text report, for people at a terminal: per file a verdict first, then what failed and why."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TextIO

from rich.markup import escape

from ..check import CheckReport, FileCheck, ReportHead, Summary, Verdict, summary_of
from ..display import show_value, terminal_text
from ..policy import Outcome
from ..terminal import TerminalConsole

_VERDICT_STYLE = {
    Verdict.passed: "bold green",
    Verdict.failed: "bold red",
    Verdict.error: "bold magenta",
    Verdict.skipped: "dim",
}
_OUTCOME_STYLE = {Outcome.failed: "red", Outcome.warned: "yellow"}


def write_text(report: CheckReport, stream: TextIO, color: bool) -> None:
    write_text_stream(report.files, ReportHead.of(report), stream, color, lambda: report.duration_s)


def write_text_stream(
    files: Iterable[FileCheck], head: ReportHead, stream: TextIO, color: bool, seconds: Callable[[], float]
) -> Summary:
    """Each file as it comes, then the summary; keeps only the verdicts in memory."""
    console = TerminalConsole(file=stream, force_terminal=color, no_color=not color, soft_wrap=True)
    verdicts = []
    for file in files:
        _file(console, file)
        verdicts.append(file.verdict)
    s = summary_of(verdicts)
    policies = ", ".join(f"{escape(terminal_text(p.name))} (sha256 {p.sha256[:12]})" for p in head.policies)
    console.print(
        f"{s.files} file(s): [green]{s.passed} passed[/], [red]{s.failed} failed[/], "
        f"{s.errors} errors, {s.skipped} skipped  |  {policies}{' | strict' if head.strict else ''}  |  "
        f"aidisclose {head.tool_version}, {head.started_at}, {seconds():.2f} s",
        markup=True,
    )
    if head.digest == "none":
        console.print("digest: none (--digest none): no file was read whole; no sha256 was taken")
    if s.nothing_checked:
        console.print("[bold red]NOT A PASS[/]: no media file was checked")
    return s


def _file(console: TerminalConsole, file: FileCheck) -> None:
    label = file.verdict.value.upper()
    console.print(f"[{_VERDICT_STYLE[file.verdict]}]{label:7}[/] {escape(terminal_text(file.path))}", markup=True)
    if file.reason:
        console.print(f"        {terminal_text(file.reason)}")
        return
    console.print(f"        sha256 {file.sha256 or 'not computed (--digest none)'}", style="dim")
    for result in file.results:
        if result.outcome not in (Outcome.failed, Outcome.warned):
            continue
        style = _OUTCOME_STYLE[result.outcome]
        # A policy's rule id and message are text on one line, never markup or control.
        text = escape(terminal_text(f"{result.rule}: {result.message}"))
        console.print(f"        [{style}]{result.outcome.value:4}[/] {text}", markup=True)
        where = f" (from {result.carrier})" if result.carrier else ""
        found = show_value(result.actual)
        if result.invalid:  # the file holds a value, one the record rejects: not "missing"
            found = f"invalid {found!r} ({result.invalid})"
        console.print(f"             expected {result.expected}; found {found}{where}", style="dim")
