"""MP3: ID3v2 text frames (mutagen) and the full XMP packet in the ``PRIV`` frame owned by ``XMP``.

A tag keeps its ID3v2 version (many players and DAWs read only v2.3); a file
without one gets v2.4, and ``WriteSettings.id3v2_version`` forces either.
In v2.3 a text frame holds one string, several values joined by ``/``.

The essence is the run of MPEG audio frames between the ID3v2 tag and an
ID3v1 tag; walking those frames also tells a truncated file from a whole one.
"""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from typing import Any, cast

from mutagen import MutagenError
from mutagen.aiff import AIFF
from mutagen.id3 import ID3, PRIV, TXXX, Frames, ID3NoHeaderError

from ..containers.id3 import id3v2_size, mpeg_frame_length
from ..containers.riff import Form, read_form
from ..errors import DisclosureError
from .base import (
    Carrier,
    CarrierChanges,
    CarrierValues,
    MetadataStore,
    Stored,
    WriteSettings,
    hash_ranges,
    text_list,
)
from .exiv2 import edit_packet, read_packet
from .tags import AIGC_TAG

XMP_OWNER = "XMP"
#: What ID3v2.3 puts between the values of one text frame (v2.4 separates them with NUL).
V23_SEPARATOR = "/"
#: Standard text frames whose values are lists of names, split on the separator in v2.3.
_NAME_FRAMES = ("TCOM", "TEXT")
_AIGC_KEY = f"TXXX:{AIGC_TAG}"

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


def _names(text: list[Any], version: tuple[int, int, int]) -> list[str]:
    """The names of a TCOM/TEXT frame: v2.3 holds them as one ``/``-joined string."""
    names = [str(t) for t in text]
    if version[:2] == (2, 3):
        names = [n.strip() for joined in names for n in joined.split(V23_SEPARATOR)]
    return [n for n in names if n]


def _text_frame(key: str, values: list[str]) -> Any:
    """A UTF-8 text frame for ``TXXX:DESC`` or a standard text frame id."""
    if key.startswith("TXXX:"):
        return TXXX(encoding=3, desc=key[5:], text=values)
    return Frames[key](encoding=3, text=values)


class Id3Store(MetadataStore):
    """MP3: an ID3v2 tag in front of the MPEG audio frames."""

    carriers = (Carrier.XMP, Carrier.ID3)

    def __init__(self, v2_version: int | None = None) -> None:
        self.v2_version = v2_version  # None: the file's own version (v2.3 stays v2.3), else v2.4

    def configured(self, settings: WriteSettings) -> Id3Store:
        return type(self)(settings.id3v2_version)

    def written_as_asked(self, path: Path) -> bool:
        if self.v2_version is None:
            return True
        tags = self._tags(path)
        return tags is not None and tags.version[:2] == (2, self.v2_version)

    def _tags(self, path: Path) -> ID3 | None:
        _check_tag_size(path)
        return _load_tags(path)

    def _version(self, tags: ID3) -> int:
        """The ID3v2 version to save: the one asked for, else the tag's own v2.3, else v2.4."""
        if self.v2_version is not None:
            return self.v2_version
        return 3 if tags.version[:2] == (2, 3) else 4

    def _save(self, tags: ID3, target: Path, version: int) -> None:
        if version == 3:
            tags.update_to_v23()
        tags.save(target, v2_version=version, v23_sep=V23_SEPARATOR)

    def read(self, path: Path) -> CarrierValues:
        tags = self._tags(path)
        values: dict[str, Stored] = {}
        labels: list[str] = []
        if tags is not None:
            for frame in tags.values():
                if frame.FrameID == "TXXX" and frame.desc.startswith("AIDISCLOSE_"):
                    values[f"TXXX:{frame.desc}"] = [str(t) for t in frame.text]
                elif frame.FrameID == "TXXX" and frame.desc.upper() == AIGC_TAG:  # some tools write "aigc"
                    labels.extend(str(t) for t in frame.text)  # every such frame: a stamp merges them all
                elif frame.FrameID == "TCOP":
                    values[frame.FrameID] = [str(t) for t in frame.text]
                elif frame.FrameID in _NAME_FRAMES:
                    values[frame.FrameID] = _names(frame.text, tags.version)
        if labels:
            values[_AIGC_KEY] = labels
        return {Carrier.XMP: read_packet(_xmp_packet(tags), path), Carrier.ID3: values}

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        shutil.copyfile(source, target)
        tags = self._tags(target)
        if tags is None:  # not `or`: a tag with no frames is falsy, and an AIFF's saves itself as a chunk
            tags = ID3()
        version = self._version(tags)  # before any frame is added: a new tag has no version of its own
        if changes.get(Carrier.XMP):
            packet = edit_packet(_xmp_packet(tags), source, changes)
            for frame in tags.getall("PRIV"):
                if frame.owner == XMP_OWNER:
                    tags.delall(frame.HashKey)
            tags.add(PRIV(owner=XMP_OWNER, data=packet))
        for key, value in changes.get(Carrier.ID3, {}).items():
            tags.delall(key)
            if key == _AIGC_KEY:  # the label written replaces one under another case, which it was merged from
                for frame in tags.getall("TXXX"):
                    if frame.desc.upper() == AIGC_TAG:
                        tags.delall(frame.HashKey)
            if value is not None:
                tags.add(_text_frame(key, text_list(value)))
        try:
            self._save(tags, target, version)
        except (MutagenError, OSError) as exc:
            raise DisclosureError(source, f"cannot write the ID3 tag: {exc}") from None

    def essence_digest(self, path: Path) -> str:
        start, end = audio_range(path)
        return hash_ranges(path, [(start, end - start)], b"mpeg-audio")


class AiffId3Store(Id3Store):
    """AIFF / AIFF-C: the same ID3 carriers, in the file's ``ID3 `` chunk (mutagen writes it)."""

    def _tags(self, path: Path) -> ID3 | None:
        """The file's ID3 chunk, or a new empty one that saves itself as a chunk of this file."""
        self._form(path)
        try:
            audio = AIFF(path)
            if audio.tags is None:
                audio.add_tags()
        except (MutagenError, struct.error, ValueError, EOFError) as exc:
            raise DisclosureError(path, f"its AIFF chunks or ID3 tag are corrupt ({exc})") from None
        tags: ID3 = cast(ID3, audio.tags)
        return tags

    def _form(self, path: Path) -> Form:
        form = read_form(path)
        if form.magic != b"FORM" or form.kind not in (b"AIFF", b"AIFC"):
            raise DisclosureError(path, "is not an AIFF file")
        if form.first(b"COMM") is None or form.first(b"SSND") is None:
            raise DisclosureError(path, "has no 'COMM' or 'SSND' chunk; it is not playable audio")
        return form

    def essence_digest(self, path: Path) -> str:
        form = self._form(path)
        ranges = [(c.payload, c.size) for c in form.chunks if c.fourcc in (b"COMM", b"SSND")]
        return hash_ranges(path, ranges, b"aiff")
