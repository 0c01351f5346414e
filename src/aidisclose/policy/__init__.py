"""Policies: named rules (TOML data) checked against a file's rebuilt record and provenance."""

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

__all__ = [
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
