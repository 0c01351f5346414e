"""The JSON output of `aidisclose inspect` (with a published schema), for scripts; ``inspect_text`` writes
it for people.

Files are written one by one as results arrive, so memory stays flat however many files there are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from pydantic import BaseModel, ConfigDict

from .._version import __version__
from ..batch import Outcome
from ..display import json_dumps
from ..inspect import InspectResult


class InspectProblem(BaseModel):
    path: str
    error: str | None = None
    reason: str | None = None


class InspectReport(BaseModel):
    """The JSON output of `aidisclose inspect --format json` (see `aidisclose schema --inspect`)."""

    model_config = ConfigDict(frozen=True, json_schema_extra={"$id": "https://aidisclose.org/schema/inspect/1.json"})

    tool_version: str = __version__
    files: list[InspectResult]
    errors: list[InspectProblem]
    skipped: list[InspectProblem]


def inspect_json_schema() -> dict[str, Any]:
    return InspectReport.model_json_schema()


def write_inspect_json(outcomes: Iterable[Outcome[InspectResult]], stream: TextIO) -> tuple[int, int]:
    """The InspectReport, each file written as it comes; returns (files read, errors)."""
    errors: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    stream.write(f'{{\n  "tool_version": {json_dumps(__version__)},\n  "files": [')
    written = 0
    for outcome in outcomes:
        if outcome.error:
            errors.append({"path": str(outcome.path), "error": outcome.error})
        elif outcome.skipped:
            skipped.append({"path": str(outcome.path), "reason": outcome.skipped})
        elif outcome.result is not None:
            text = json_dumps(outcome.result.to_json_dict(), indent=2)
            stream.write(("," if written else "") + "\n" + text)
            written += 1
    tail = json_dumps({"errors": errors, "skipped": skipped}, indent=2)
    stream.write("\n  ],\n" + tail[2:] + "\n")
    return written, len(errors)
