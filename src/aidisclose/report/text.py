"""The text report, for people at a terminal: per file a verdict first, then what failed and why."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console

from ..check import CheckReport, FileCheck, Verdict
from ..display import show_value
from ..policy import Outcome

_VERDICT_STYLE = {
    Verdict.passed: "bold green",
    Verdict.failed: "bold red",
    Verdict.error: "bold magenta",
    Verdict.skipped: "dim",
}
_OUTCOME_STYLE = {Outcome.failed: "red", Outcome.warned: "yellow"}


def write_text(report: CheckReport, stream: TextIO, color: bool) -> None:
    console = Console(file=stream, force_terminal=color, no_color=not color, soft_wrap=True, highlight=False)
    for file in report.files:
        _file(console, file)
    policies = ", ".join(f"{p.name} (sha256 {p.sha256[:12]})" for p in report.policies)
    s = report.summary
    console.print(
        f"{s.files} file(s): [green]{s.passed} passed[/], [red]{s.failed} failed[/], "
        f"{s.errors} unreadable, {s.skipped} skipped  |  {policies}{' | strict' if report.strict else ''}  |  "
        f"aidisclose {report.tool_version}, {report.started_at}, {report.duration_s:.2f} s"
    )


def _file(console: Console, file: FileCheck) -> None:
    label = file.verdict.value.upper()
    console.print(f"[{_VERDICT_STYLE[file.verdict]}]{label:7}[/] {file.path}", markup=True)
    if file.reason:
        console.print(f"        {file.reason}", markup=False)
        return
    console.print(f"        sha256 {file.sha256}", style="dim")
    for result in file.results:
        if result.outcome not in (Outcome.failed, Outcome.warned):
            continue
        style = _OUTCOME_STYLE[result.outcome]
        console.print(f"        [{style}]{result.outcome.value:4}[/] {result.rule}: {result.message}", markup=True)
        where = f" (from {result.carrier})" if result.carrier else ""
        found = show_value(result.actual)
        console.print(
            f"             expected {result.expected}; found {found}{where}",
            markup=False,
            style="dim",
        )
