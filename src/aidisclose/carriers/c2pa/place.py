"""Where a format keeps its manifest store, as the format table says (``formats.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ManifestPlace:
    """How C2PA meets one format: embedded by the SDK, or in a ``NAME.EXT.c2pa`` sidecar."""

    mime: str  # without parameters: what the SDK is told
    extension: str  # what the SDK's path API recognises the format by (no dot)
    embedded: bool
    #: A look at the headers: False only when it proves there is no embedded store (None: always ask the SDK).
    may_hold: Callable[[Path], bool] | None = None


def sidecar_manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".c2pa")
