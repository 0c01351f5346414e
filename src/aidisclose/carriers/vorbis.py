"""FLAC, Ogg Vorbis, Opus, Ogg FLAC and Speex: Vorbis comments through mutagen.

``AIDISCLOSE_*`` comments carry the key fields for people; ``AIDISCLOSE_RECORD``
carries the whole record as JSON. Pictures and every other comment are kept.
The essence is the audio after the headers: FLAC frames, or the Ogg pages that
follow the codec's header packets (mutagen may renumber pages when the comment
packet grows, so page bodies are hashed, not whole pages).
"""

from __future__ import annotations

import re
import shutil
import struct
from pathlib import Path
from typing import Any

from mutagen import MutagenError
from mutagen.flac import FLAC
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggspeex import OggSpeex
from mutagen.oggvorbis import OggVorbis

from ..containers.flac import read_layout
from ..containers.ogg import first_packet, pages
from ..errors import DisclosureError
from .base import Carrier, CarrierChanges, CarrierValues, MetadataStore, Stored, hash_ranges
from .tags import AIGC_TAG, RECORD_KEY, tag_writes, unpack_record

_OPENERS: dict[str, Any] = {
    "flac": FLAC,
    "ogg-vorbis": OggVorbis,
    "opus": OggOpus,
    "ogg-flac": OggFLAC,
    "speex": OggSpeex,
}


_MAX_EXTRA_HEADERS = 64


def _header_packets(kind: str, path: Path) -> int:
    """How many packets of the Ogg stream are headers (identification, comments, setup), not audio."""
    if kind == "ogg-vorbis":
        return 3
    if kind == "opus":
        return 2
    with open(path, "rb") as handle:
        packet = first_packet(handle.read(512)) or b""
    if kind == "speex" and len(packet) >= 72:  # Speex header: extra_headers at byte 68
        extra = int.from_bytes(packet[68:72], "little")
        if extra > _MAX_EXTRA_HEADERS:
            raise DisclosureError(path, f"its Speex header claims {extra:,} extra header packets; the file is damaged")
        return 2 + extra
    if kind == "ogg-flac" and len(packet) >= 9:  # 0x7F 'FLAC' major minor, then the header packet count
        count = int.from_bytes(packet[7:9], "big")
        if count == 0:  # "unknown" by the mapping: which pages are audio cannot be told, so nothing is stamped
            raise DisclosureError(path, "its Ogg FLAC header does not say how many header packets follow")
        return 1 + count
    raise DisclosureError(path, f"its {kind} header packet is cut short; the file is damaged")


class VorbisCommentStore(MetadataStore):
    carriers = (Carrier.VORBIS,)

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def _open(self, path: Path) -> Any:
        try:
            return _OPENERS[self.kind](path)
        except (MutagenError, struct.error, ValueError, EOFError, IndexError) as exc:
            raise DisclosureError(path, f"cannot read the {self.kind} headers ({exc}); the file is damaged") from None

    def read(self, path: Path) -> CarrierValues:
        tags = self._open(path).tags
        values: dict[str, Stored] = {}
        for key, items in tags.items() if tags is not None else []:
            upper = key.upper()  # Vorbis comment names are case-insensitive
            if upper == RECORD_KEY:
                values.update(unpack_record(items[0] if items else None))
            elif upper.startswith("AIDISCLOSE_") or upper in ("COPYRIGHT", AIGC_TAG):
                values[upper] = list(items)
        return {Carrier.VORBIS: values}

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        shutil.copyfile(source, target)
        audio = self._open(target)
        if audio.tags is None:
            audio.add_tags()
        tags = audio.tags
        current = tags.get(RECORD_KEY)
        for key, values in tag_writes(
            changes.get(Carrier.VORBIS, {}), current[0] if current else None, RECORD_KEY
        ).items():
            if key in tags:
                del tags[key]
            if values is not None:
                tags[key] = values
        try:
            audio.save()
        except (MutagenError, OSError) as exc:
            raise DisclosureError(source, f"cannot write the Vorbis comments: {exc}") from None

    def essence_digest(self, path: Path) -> str:
        if self.kind == "flac":
            return hash_ranges(path, [flac_audio_range(path)], b"flac-frames")
        return ogg_audio_digest(path, _header_packets(self.kind, path))


def _crc16_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return table


_CRC16 = _crc16_table()


def _crc16(data: bytes) -> int:
    """CRC-16 of a FLAC frame (polynomial 0x8005, initial 0)."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[(crc >> 8) ^ byte]
    return crc


def flac_audio_range(path: Path) -> tuple[int, int]:
    """(offset, length) of the FLAC frames; refused when the last frame is cut short."""
    size = path.stat().st_size
    layout = read_layout(path)
    position, max_frame = layout.audio_start, layout.max_frame
    if position >= size:
        raise DisclosureError(path, "has FLAC metadata but no audio frames; the file is truncated")
    window = min(size - position, max_frame + 16 if max_frame else 1 << 20)
    with open(path, "rb") as handle:
        handle.seek(size - window)
        tail = handle.read(window)
    _check_last_flac_frame(path, tail)
    return position, size - position


def _check_last_flac_frame(path: Path, tail: bytes) -> None:
    """The file must end with a whole frame: from some frame sync, CRC-16 matches the last two bytes."""
    expected = int.from_bytes(tail[-2:], "big")
    for sync in reversed(list(re.finditer(rb"\xff[\xf8\xf9]", tail))):
        if _crc16(tail[sync.start() : -2]) == expected:
            return
    raise DisclosureError(path, "its last FLAC frame is cut short or damaged; the file is truncated")


def ogg_audio_digest(path: Path, header_packets: int) -> str:
    """SHA-256 over the bodies of the Ogg pages after the header packets; refuses a cut-short page."""
    ranges: list[tuple[int, int]] = []
    packets_done = 0
    for page in pages(path):
        if packets_done >= header_packets:
            ranges.append((page.body_start, page.body_length))
        packets_done += page.packets_ended
    if not ranges:
        raise DisclosureError(path, "has Ogg headers but no audio pages; the file is truncated")
    return hash_ranges(path, ranges, b"ogg-audio")
