"""Reports for machines: JSON (schema'd), CSV (one row per file x rule), JUnit XML (for CI dashboards)."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from pydantic_core import PydanticSerializationError

from ..check import CheckReport, FileCheck, ReportHead, Summary, Verdict, summary_of
from ..display import csv_cell, json_dumps, model_json, xml_text
from ..policy import Outcome

CSV_COLUMNS = [
    "file", "sha256", "format", "verdict", "policy", "policy_sha256", "rule", "level", "outcome",
    "message", "expected", "actual", "field", "carrier", "tool_version", "started_at",
]  # fmt: skip


def write_json(report: CheckReport, stream: TextIO, color: bool) -> None:
    write_json_stream(report.files, ReportHead.of(report), stream, lambda: report.duration_s)


def _entry(file: FileCheck) -> str:
    """A file's entry of the JSON report: as its worker wrote it, or written now."""
    try:
        return file.report_json()
    except PydanticSerializationError:  # a file name that is not UTF-8: written by json_ready
        return model_json(file, indent=2)


def write_json_stream(
    files: Iterable[FileCheck], head: ReportHead, stream: TextIO, seconds: Callable[[], float]
) -> Summary:
    """The JSON report written file by file (the summary and duration come last)."""
    opening = {"report_version": 1, "tool": "aidisclose", "tool_version": head.tool_version,
               "started_at": head.started_at, "strict": head.strict, "digest": head.digest,
               "policies": [p.model_dump(mode="json") for p in head.policies]}  # fmt: skip
    stream.write(json_dumps(opening, indent=2)[:-2] + ',\n  "files": [')
    verdicts = []
    for index, file in enumerate(files):
        stream.write(("," if index else "") + "\n" + _entry(file))
        verdicts.append(file.verdict)
    summary = summary_of(verdicts)
    closing = {"summary": summary.model_dump(mode="json"), "duration_s": round(seconds(), 3)}
    stream.write("\n  ],\n" + json.dumps(closing, indent=2)[2:] + "\n")
    return summary


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _cells(row: dict[str, Any]) -> dict[str, Any]:
    """Every cell through ``csv_cell``: a spreadsheet shows it as text, never runs it as a formula."""
    return {k: csv_cell(v) if isinstance(v, str) else v for k, v in row.items()}


def write_csv(report: CheckReport, stream: TextIO, color: bool) -> None:
    write_csv_stream(report.files, ReportHead.of(report), stream, lambda: report.duration_s)


def write_csv_stream(
    files: Iterable[FileCheck], head: ReportHead, stream: TextIO, seconds: Callable[[], float]
) -> Summary:
    """One row per file x rule, written as each file comes."""
    hashes = {p.name: p.sha256 for p in head.policies}
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    common = {"tool_version": head.tool_version, "started_at": head.started_at}
    verdicts = []
    for file in files:
        verdicts.append(file.verdict)
        base = {
            "file": file.path,
            "sha256": file.sha256 or "",
            "format": file.format or "",
            "verdict": file.verdict.value,
        }
        if not file.results:  # unreadable or skipped: one row that says why
            writer.writerow(_cells({**base, **common, "outcome": file.verdict.value, "message": file.reason or ""}))
            continue
        for r in file.results:
            writer.writerow(
                _cells(
                    {
                        **base,
                        **common,
                        "policy": r.policy,
                        "policy_sha256": hashes.get(r.policy, ""),
                        "rule": r.rule,
                        "level": r.level,
                        "outcome": r.outcome.value,
                        "message": r.message,
                        "expected": r.expected,
                        "actual": _cell(r.actual),
                        "field": _cell(r.field),
                        "carrier": _cell(r.carrier),
                    }
                )
            )
    return summary_of(verdicts)


def write_junit(report: CheckReport, stream: TextIO, color: bool) -> None:
    write_junit_stream(report.files, ReportHead.of(report), stream, lambda: report.duration_s)


def write_junit_stream(
    files: Iterable[FileCheck], head: ReportHead, stream: TextIO, seconds: Callable[[], float]
) -> Summary:
    """A testsuite per file, a testcase per rule: failures are policy failures (and warnings with --strict).

    Each file's testsuite is spooled to a temporary file as it comes; the totals the root element
    states are known at the end, when the document is written. Memory stays flat.
    """
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    policies = "; ".join(f"{p.name} sha256={p.sha256}" for p in head.policies)
    verdicts = []
    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        for file in files:
            suite = _junit_suite(file, head, policies)
            for key in totals:
                totals[key] += int(suite.get(key) or 0)
            ET.indent(suite, level=1)
            # Control characters in a file name or value are not XML 1.0 even escaped: shown visibly instead.
            spool.write("  " + xml_text(ET.tostring(suite, encoding="unicode")).rstrip() + "\n")
            verdicts.append(file.verdict)
        summary = summary_of(verdicts)
        if summary.nothing_checked:  # a delivery where nothing was checked is not a pass
            suite = ET.Element("testsuite", name="delivery", tests="1", errors="1", timestamp=head.started_at)
            case = ET.SubElement(suite, "testcase", classname="aidisclose", name="read")
            ET.SubElement(case, "error", message="no media file was checked")
            ET.indent(suite, level=1)
            spool.write("  " + ET.tostring(suite, encoding="unicode").rstrip() + "\n")
            totals["tests"] += 1
            totals["errors"] += 1
        root = ET.Element("testsuites", name="aidisclose check", time=f"{seconds():.3f}")
        for key, value in totals.items():
            root.set(key, str(value))
        opening = ET.tostring(root, encoding="unicode").removesuffix(" />")
        stream.write(f'<?xml version="1.0" encoding="UTF-8"?>\n{opening}>\n')
        spool.seek(0)
        shutil.copyfileobj(spool, stream)
        stream.write("</testsuites>\n")
    return summary


def _junit_suite(file: FileCheck, head: ReportHead, policies: str) -> ET.Element:
    suite = ET.Element("testsuite", name=file.path, timestamp=head.started_at)
    props = ET.SubElement(suite, "properties")
    digest = file.sha256 or ("not computed (--digest none)" if head.digest == "none" else "")
    for name, text in (("sha256", digest), ("tool_version", head.tool_version), ("policies", policies)):
        ET.SubElement(props, "property", name=name, value=text)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if file.verdict in (Verdict.error, Verdict.skipped):
        case = ET.SubElement(suite, "testcase", classname="aidisclose", name="read")
        if file.verdict is Verdict.error:
            ET.SubElement(case, "error", message=file.reason or "").text = file.reason
            counts["errors"] += 1
        else:
            ET.SubElement(case, "skipped", message=file.reason or "")
            counts["skipped"] += 1
        counts["tests"] += 1
    for r in file.results:
        case = ET.SubElement(suite, "testcase", classname=r.policy, name=r.rule)
        detail = f"{r.message} Expected {r.expected}; found {_cell(r.actual)}" + (
            f" (from {r.carrier})" if r.carrier else ""
        )
        if r.outcome is Outcome.failed or (r.outcome is Outcome.warned and head.strict):
            ET.SubElement(case, "failure", message=r.message, type=r.level).text = detail
            counts["failures"] += 1
        elif r.outcome is Outcome.not_applicable:
            ET.SubElement(case, "skipped", message=r.expected)
            counts["skipped"] += 1
        elif r.outcome is Outcome.warned:
            ET.SubElement(case, "system-out").text = f"warning: {detail}"
        counts["tests"] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    return suite
