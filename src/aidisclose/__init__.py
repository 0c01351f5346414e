"""aidisclose: AI-usage, consent and attribution metadata written into media files.

The public API that export hooks call::

    import aidisclose
    record = aidisclose.load_record("record.toml")
    result = aidisclose.stamp("shot010.jpg", record, output_dir="delivery/")
    report = aidisclose.inspect_file("delivery/shot010.jpg")
    verdicts = aidisclose.check_files("delivery/", policy="genai-production")
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path

from ._version import __version__
from .check import CheckReport, check_paths
from .errors import DisclosureError
from .inspect import InspectResult, inspect_file
from .record import DisclosureRecord, load_record
from .stamp import StampResult, stamp

__all__ = [
    "CheckReport",
    "DisclosureError",
    "DisclosureRecord",
    "InspectResult",
    "StampResult",
    "__version__",
    "check_files",
    "inspect_file",
    "load_record",
    "stamp",
]


def check_files(
    *paths: str | PathLike[str],
    policy: str | PathLike[str] | Sequence[str | PathLike[str]] = "genai-production",
    strict: bool = False,
    jobs: int = 1,
) -> CheckReport:
    """Check files and folders (walked recursively) against one or more policies.

    ``policy`` is a built-in profile name or a policy file, or a list of them. The report is
    what ``aidisclose check --format json`` prints; ``report.exit_code`` is the CLI's exit code.
    """
    from .policy import load_policy

    names = [policy] if isinstance(policy, (str, PathLike)) else list(policy)
    return check_paths(
        [Path(p) for p in paths],
        [load_policy(n if isinstance(n, str) else Path(n)) for n in names],
        strict=strict,
        jobs=jobs,
    )
