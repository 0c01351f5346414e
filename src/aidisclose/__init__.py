"""aidisclose: AI-usage, consent and attribution metadata written into media files.

The public API that export hooks call::

    import aidisclose
    record = aidisclose.load_record("record.toml")
    result = aidisclose.stamp("shot010.jpg", record, output_dir="delivery/")
    report = aidisclose.inspect_file("delivery/shot010.jpg")
    verdicts = aidisclose.check_files("delivery/", policy="genai-production")
"""

from __future__ import annotations

import sys
from importlib import import_module

from ._version import __version__

# Nothing else is imported here: the command line's launcher (``_launch``) is in this package, and a call
# handed to a running command server must start in a few milliseconds. mypy reads TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from os import PathLike
    from typing import Any

    from .check import CheckReport
    from .errors import DisclosureError
    from .inspect import InspectResult, inspect_file
    from .record import DisclosureRecord, load_record
    from .stamp import StampResult, stamp

#: The public names, each loaded from its module on first use: a command imports only what it runs.
_LAZY = {
    "CheckReport": "check",
    "DisclosureError": "errors",
    "InspectResult": "inspect",
    "inspect_file": "inspect",
    "DisclosureRecord": "record",
    "load_record": "record",
    "StampResult": "stamp",
    "stamp": "stamp",
}

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
    from os import PathLike
    from pathlib import Path

    from .check import check_paths
    from .policy import load_policy

    names = [policy] if isinstance(policy, (str, PathLike)) else list(policy)
    return check_paths(
        [Path(p) for p in paths],
        [load_policy(n if isinstance(n, str) else Path(n)) for n in names],
        strict=strict,
        jobs=jobs,
    )


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


class _Package(type(sys)):  # type: ignore[misc]  # the module type, without importing ``types``
    """The package, whose ``stamp`` stays the function when the ``aidisclose.stamp`` module is first imported.

    Importing a submodule binds it as an attribute of its package; ``aidisclose.stamp`` is the function.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "stamp" and isinstance(value, type(sys)):
            value = value.stamp
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
