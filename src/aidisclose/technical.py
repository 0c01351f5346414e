"""Technical facts about a file from MediaInfo (pymediainfo's bundled libmediainfo), for provenance."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .bounded import call_bounded
from .errors import DisclosureError

if TYPE_CHECKING:
    from pymediainfo import MediaInfo

_GENERAL = {"format": "container", "duration": "duration_ms", "overall_bit_rate": "bit_rate"}
_VIDEO = {"format": "codec", "width": "width", "height": "height", "frame_rate": "frame_rate", "bit_depth": "bit_depth"}
_AUDIO = {"format": "codec", "sampling_rate": "sample_rate", "channel_s": "channels", "bit_depth": "bit_depth"}
_IMAGE = {"format": "codec", "width": "width", "height": "height", "bit_depth": "bit_depth"}
_TRACKS = {"Video": ("video", _VIDEO), "Audio": ("audio", _AUDIO), "Image": ("image", _IMAGE)}


def _pick(data: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    picked = {}
    for source, target in names.items():
        value = data.get(source)
        if value in (None, ""):
            continue
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value) if "." in value else int(value)
        picked[target] = value
    return picked


def _mediainfo_xml(path: Path) -> bytes:
    from pymediainfo import MediaInfo

    return str(MediaInfo.parse(path, output="OLDXML")).encode()


def parse_mediainfo(path: Path) -> MediaInfo:
    """MediaInfo's view of ``path``, parsed under limits: libmediainfo can loop on a damaged file.

    DisclosureError if it cannot read the file; ``bounded.Overrun`` if it overran or crashed.
    """
    from pymediainfo import MediaInfo

    return MediaInfo(call_bounded(path, "MediaInfo", _mediainfo_xml, path).decode())


def technical_facts(path: Path) -> dict[str, Any]:
    """Container, duration and per-track codec facts; ``{"error": ...}`` when MediaInfo cannot tell."""
    try:
        info = parse_mediainfo(path)
    except DisclosureError as err:
        return {"error": err.reason}
    facts: dict[str, Any] = {}
    tracks: list[dict[str, Any]] = []
    for track in info.tracks:
        data = track.to_data()
        if track.track_type == "General":
            facts.update(_pick(data, _GENERAL))
        elif track.track_type in _TRACKS:
            kind, names = _TRACKS[track.track_type]
            tracks.append({"type": kind, **_pick(data, names)})
    facts["tracks"] = tracks
    return facts
