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


#: JPEG start-of-frame markers (ITU T.81 table B.1): every coding process but DHT, JPG, DAC and the rest.
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def jpeg_frame_facts(path: Path) -> dict[str, Any] | None:
    """A JPEG's technical facts from its frame header, as MediaInfo gives them; None to leave it to MediaInfo.

    Reads segment headers up to the first frame header (never the entropy-coded data): MediaInfo's
    start-up (a helper process and its library, about 30 ms) is most of what ``inspect`` of one JPEG
    costs. Anything unusual (no frame header before the scan, a height given later by a DNL marker,
    a damaged segment) is left to MediaInfo.
    """
    try:
        with open(path, "rb") as stream:
            if stream.read(2) != b"\xff\xd8":
                return None
            for _ in range(4096):  # segments before the frame header: APPn, COM, DQT, DHT...
                marker = stream.read(4)
                if len(marker) < 4 or marker[0] != 0xFF or marker[1] in (0xD8, 0xD9, 0xDA, 0xFF):
                    return None
                length = int.from_bytes(marker[2:], "big")
                if length < 2:
                    return None
                if marker[1] in _SOF:
                    frame = stream.read(6)
                    if len(frame) < 6:
                        return None
                    bits, height, width = frame[0], int.from_bytes(frame[1:3], "big"), int.from_bytes(frame[3:5], "big")
                    if not (height and width and bits):
                        return None
                    image = {"type": "image", "codec": "JPEG", "width": width, "height": height, "bit_depth": bits}
                    return {"container": "JPEG", "tracks": [image]}
                stream.seek(length - 2, 1)
    except OSError:
        return None
    return None


def technical_facts(path: Path, format_name: str | None = None) -> dict[str, Any]:
    """Container, duration and per-track codec facts; ``{"error": ...}`` when MediaInfo cannot tell.

    A JPEG (``format_name`` "jpeg") is read from its frame header where that is plain (``jpeg_frame_facts``).
    """
    if format_name == "jpeg" and (frame := jpeg_frame_facts(path)) is not None:
        return frame
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
