"""Reports of `aidisclose check`: one formatter per format, chosen by ``ReportFormat``.

Every report states the tool version, each policy's name and sha256, the run
time and each file's sha256.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from ..check import CheckReport, FileCheck, ReportHead, Summary


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"
    junit = "junit"
    html = "html"


#: Formats that show each file's picture: made in the worker process that reads the file.
WITH_THUMBNAILS = frozenset({ReportFormat.html})

#: Every format is written file by file as results arrive, so memory stays flat however many files
#: there are (JUnit and HTML spool each file to a temporary file: their heads need the totals).
StreamWriter = Callable[[Iterable["FileCheck"], "ReportHead", TextIO, bool, Callable[[], float]], "Summary"]

if TYPE_CHECKING:
    #: format -> write(report, stream, color)
    FORMATTERS: dict[ReportFormat, Callable[[CheckReport, TextIO, bool], None]]
    STREAMERS: dict[ReportFormat, StreamWriter]


def _formatters() -> dict[ReportFormat, Callable[[CheckReport, TextIO, bool], None]]:
    from .html import write_html
    from .machine import write_csv, write_json, write_junit
    from .text import write_text

    return {
        ReportFormat.text: write_text,
        ReportFormat.json: write_json,
        ReportFormat.csv: write_csv,
        ReportFormat.junit: write_junit,
        ReportFormat.html: write_html,
    }


def _streamers() -> dict[ReportFormat, StreamWriter]:
    return {fmt: streamer(fmt) for fmt in ReportFormat}


def streamer(fmt: ReportFormat) -> StreamWriter:
    """The writer of ``fmt`` that writes each file as it comes, loading only its own module (JSON loads no rich)."""
    if fmt is ReportFormat.text:
        from .text import write_text_stream

        return write_text_stream
    if fmt is ReportFormat.html:
        from .html import write_html_stream

        return write_html_stream
    from .machine import write_csv_stream, write_json_stream, write_junit_stream

    write = {ReportFormat.json: write_json_stream, ReportFormat.csv: write_csv_stream}.get(fmt, write_junit_stream)
    return lambda files, head, stream, color, seconds: write(files, head, stream, seconds)


def __getattr__(name: str) -> Any:
    """``FORMATTERS`` and ``STREAMERS``, made on first use: the writers (and the checks) load only for a report."""
    tables = {"FORMATTERS": _formatters, "STREAMERS": _streamers}
    if name not in tables:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = tables[name]()
    return value


def write_report(report: CheckReport, fmt: ReportFormat, stream: TextIO, color: bool = False) -> None:
    _formatters()[fmt](report, stream, color)
