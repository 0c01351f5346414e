"""Reports of `aidisclose check`: one formatter per format, chosen by ``ReportFormat``.

Every report states the tool version, each policy's name and sha256, the run
time and each file's sha256.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import TextIO

from ..check import CheckReport, FileCheck, ReportHead, Summary
from .html import write_html, write_html_stream
from .machine import (
    write_csv,
    write_csv_stream,
    write_json,
    write_json_stream,
    write_junit,
    write_junit_stream,
)
from .text import write_text, write_text_stream


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    csv = "csv"
    junit = "junit"
    html = "html"


#: format -> write(report, stream, color)
FORMATTERS: dict[ReportFormat, Callable[[CheckReport, TextIO, bool], None]] = {
    ReportFormat.text: write_text,
    ReportFormat.json: write_json,
    ReportFormat.csv: write_csv,
    ReportFormat.junit: write_junit,
    ReportFormat.html: write_html,
}


def write_report(report: CheckReport, fmt: ReportFormat, stream: TextIO, color: bool = False) -> None:
    FORMATTERS[fmt](report, stream, color)


#: Every format is written file by file as results arrive, so memory stays flat however many files
#: there are (JUnit and HTML spool each file to a temporary file: their heads need the totals).
StreamWriter = Callable[[Iterable[FileCheck], ReportHead, TextIO, bool, Callable[[], float]], Summary]
STREAMERS: dict[ReportFormat, StreamWriter] = {
    ReportFormat.text: write_text_stream,
    ReportFormat.json: lambda files, head, stream, color, seconds: write_json_stream(files, head, stream, seconds),
    ReportFormat.csv: lambda files, head, stream, color, seconds: write_csv_stream(files, head, stream, seconds),
    ReportFormat.junit: lambda files, head, stream, color, seconds: write_junit_stream(files, head, stream, seconds),
    ReportFormat.html: write_html_stream,
}
#: Formats that show each file's picture: made in the worker process that reads the file.
WITH_THUMBNAILS = frozenset({ReportFormat.html})
