"""Policies: named rules (TOML data) checked against a file's rebuilt record and provenance.

The engine (RE2, pydantic) loads on first use of one of its names, so a command that checks no policy
(``inspect``, ``--version``) does not pay for it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import (
        Level,
        Outcome,
        Policy,
        Rule,
        RuleResult,
        builtin_names,
        builtin_text,
        load_policy,
        parse_policy,
        run_policy,
    )

#: The policy a check runs when none is named.
DEFAULT_POLICY = "genai-production"

__all__ = [
    "DEFAULT_POLICY",
    "Level",
    "Outcome",
    "Policy",
    "Rule",
    "RuleResult",
    "builtin_names",
    "builtin_text",
    "load_policy",
    "parse_policy",
    "run_policy",
]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = globals()[name] = getattr(import_module(".engine", __name__), name)
    return value
