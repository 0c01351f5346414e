"""The C2PA SDK (c2pa-python), loaded on first use: most files read never need it (see ``prescan``)."""

from __future__ import annotations

from typing import Any


def sdk() -> Any:
    import c2pa

    return c2pa
