"""MP3: ID3v2.4 text frames (mutagen) and the full XMP packet in the ``PRIV`` frame owned by ``XMP``.

The essence is the run of MPEG audio frames between the ID3v2 tag and an
ID3v1 tag; walking those frames also tells a truncated file from a whole one.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import Any

from mutagen import MutagenError
from mutagen.id3 import ID3, PRIV, TXXX, Frames, ID3NoHeaderError

from ..containers.id3 import id3v2_size, mpeg_frame_length
from ..errors import DisclosureError
from .base import Carrier, CarrierChanges, CarrierValues, MetadataStore, Stored, hash_ranges, text_list
from .exiv2 import edit_packet, read_packet

XMP_OWNER = "XMP"

def _check_tag_size(path: Path) -> int:
    """The ID3v2 tag's size, refused when it claims more bytes than the file has."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        start = id3v2_size(handle.read(10))
    if start > size:
        raise DisclosureError(path, f"its ID3 tag claims {start} bytes but the file has {size}; the tag is broken")
    return start


def audio_range(path: Path) -> tuple[int, int]:
    """(start, end) of the MPEG frames, checked frame by frame."""
    start = _check_tag_size(path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        end = size
        if size - start >= 128:
            handle.seek(size - 128)
            if handle.read(3) == b"TAG":
                end = size - 128
        position, frames = start, 0
        while position + 4 <= end:
            handle.seek(position)
            length = mpeg_frame_length(handle.read(4))
            if length is None:
                break  # trailing junk or another tag: only whole frames count as audio
            if position + length > end:
                raise DisclosureError(path, "its last MPEG audio frame is cut short; the file is truncated")
            position += length
            frames += 1
    if frames == 0:
        raise DisclosureError(path, "has no MPEG audio frames after its ID3 tag; it is not a playable MP3")
    return start, position


def _load_tags(path: Path) -> ID3 | None:
    try:
        return ID3(path)
    except ID3NoHeaderError:
        return None
    except (MutagenError, struct.error, ValueError, EOFError) as exc:
        raise DisclosureError(path, f"its ID3 tag is corrupt ({exc})") from None


def _xmp_packet(tags: ID3 | None) -> bytes | None:
    if tags is None:
        return None
    for frame in tags.getall("PRIV"):
        if frame.owner == XMP_OWNER:
            data: bytes = frame.data
            return data
    return None


def _text_frame(key: str, values: list[str]) -> Any:
    """A UTF-8 text frame for ``TXXX:DESC`` or a standard text frame id."""
    if key.startswith("TXXX:"):
        return TXXX(encoding=3, desc=key[5:], text=values)
    return Frames[key](encoding=3, text=values)


class Id3Store(MetadataStore):
    carriers = (Carrier.XMP, Carrier.ID3)

    def read(self, path: Path) -> CarrierValues:
        _check_tag_size(path)
        tags = _load_tags(path)
        values: dict[str, Stored] = {}
        if tags is not None:
            for frame in tags.values():
                if frame.FrameID == "TXXX" and frame.desc.startswith("AIDISCLOSE_"):
                    values[f"TXXX:{frame.desc}"] = [str(t) for t in frame.text]
                elif frame.FrameID in ("TCOP", "TCOM", "TEXT"):
                    values[frame.FrameID] = [str(t) for t in frame.text]
        return {Carrier.XMP: read_packet(_xmp_packet(tags), path), Carrier.ID3: values}

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        shutil.copyfile(source, target)
        tags = _load_tags(target) or ID3()
        if changes.get(Carrier.XMP):
            packet = edit_packet(_xmp_packet(tags), source, changes)
            for frame in tags.getall("PRIV"):
                if frame.owner == XMP_OWNER:
                    tags.delall(frame.HashKey)
            tags.add(PRIV(owner=XMP_OWNER, data=packet))
        for key, value in changes.get(Carrier.ID3, {}).items():
            tags.delall(key)
            if value is not None:
                tags.add(_text_frame(key, text_list(value)))
        try:
            tags.save(target, v2_version=4)
        except (MutagenError, OSError) as exc:
            raise DisclosureError(source, f"cannot write the ID3 tag: {exc}") from None

    def essence_digest(self, path: Path) -> str:
        start, end = audio_range(path)
        return hash_ranges(path, [(start, end - start)], b"mpeg-audio")
