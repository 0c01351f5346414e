"""Record values shown to people (terminal and HTML): objects as ``key: value`` lines, one list item per line."""

from __future__ import annotations

from typing import Any


def show_value(value: Any) -> str:
    if isinstance(value, dict):
        return "\n".join(
            f"{k}:\n  " + show_value(v).replace("\n", "\n  ") if isinstance(v, dict) else f"{k}: {show_value(v)}"
            for k, v in value.items()
        )
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "; ".join(value)
        return "\n".join("- " + show_value(v).replace("\n", "\n  ") for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    return str(value)
