"""Detect a file's format from its content and pick the metadata store for it."""

from __future__ import annotations

import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .carriers.base import MetadataStore
from .carriers.bmff import BmffStore
from .carriers.exif_iptc import IIM
from .carriers.id3 import Id3Store, id3v2_size, mpeg_frame_length
from .carriers.image import Exiv2ImageStore
from .carriers.riff import RiffWaveStore
from .carriers.sidecar import SidecarStore
from .carriers.vorbis import VorbisCommentStore
from .carriers.xmp import XMP
from .errors import DisclosureError, UnsupportedFormat


class MediaFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    TIFF = "tiff"
    WEBP = "webp"
    MP3 = "mp3"
    WAV = "wav"
    FLAC = "flac"
    OGG_VORBIS = "ogg-vorbis"
    OPUS = "opus"
    M4A = "m4a"
    MP4 = "mp4"
    MOV = "mov"
    M4V = "m4v"
    MATROSKA = "matroska"
    MXF = "mxf"
    EXR = "exr"
    DPX = "dpx"


@dataclass(frozen=True)
class FormatInfo:
    format: MediaFormat
    mime: str
    store: MetadataStore


_FORMATS: dict[MediaFormat, FormatInfo] = {
    f.format: f
    for f in (
        FormatInfo(MediaFormat.JPEG, "image/jpeg", Exiv2ImageStore((XMP, IIM))),
        FormatInfo(MediaFormat.PNG, "image/png", Exiv2ImageStore((XMP,))),
        FormatInfo(MediaFormat.TIFF, "image/tiff", Exiv2ImageStore((XMP, IIM))),
        FormatInfo(MediaFormat.WEBP, "image/webp", Exiv2ImageStore((XMP,))),
        FormatInfo(MediaFormat.MP3, "audio/mpeg", Id3Store()),
        FormatInfo(MediaFormat.WAV, "audio/wav", RiffWaveStore()),
        FormatInfo(MediaFormat.FLAC, "audio/flac", VorbisCommentStore("flac")),
        FormatInfo(MediaFormat.OGG_VORBIS, "audio/ogg", VorbisCommentStore("ogg-vorbis")),
        FormatInfo(MediaFormat.OPUS, "audio/ogg; codecs=opus", VorbisCommentStore("opus")),
        FormatInfo(MediaFormat.M4A, "audio/mp4", BmffStore()),
        FormatInfo(MediaFormat.MP4, "video/mp4", BmffStore()),
        FormatInfo(MediaFormat.MOV, "video/quicktime", BmffStore()),
        FormatInfo(MediaFormat.M4V, "video/x-m4v", BmffStore()),
        FormatInfo(MediaFormat.MATROSKA, "video/x-matroska", SidecarStore()),
        FormatInfo(MediaFormat.MXF, "application/mxf", SidecarStore()),
        FormatInfo(MediaFormat.EXR, "image/x-exr", SidecarStore()),
        FormatInfo(MediaFormat.DPX, "image/x-dpx", SidecarStore()),
    )
}

SUPPORTED = (
    "JPEG, PNG, TIFF, WebP, MP3, WAV, FLAC, Ogg Vorbis, Opus, M4A, MP4, MOV, M4V "
    "or (with a sidecar) Matroska/WebM, MXF, OpenEXR, DPX"
)
_AUDIO_MP4_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A "}
#: Top-level box types that open a QuickTime file written without ``ftyp``.
_BARE_QUICKTIME = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}
HEAD_BYTES = 64


def sniff(head: bytes) -> MediaFormat | None:
    """The format whose signature ``head`` (the first bytes of a file) carries."""
    if head.startswith(b"\xff\xd8\xff"):
        return MediaFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaFormat.PNG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return MediaFormat.TIFF
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return MediaFormat.WAV
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaFormat.WEBP
    if head[:4] == b"fLaC":
        return MediaFormat.FLAC
    if head[:4] == b"OggS" and len(head) > 27 and len(head) > 27 + head[26]:
        packet = head[27 + head[26] :]
        if packet.startswith(b"\x01vorbis"):
            return MediaFormat.OGG_VORBIS
        if packet.startswith(b"OpusHead"):
            return MediaFormat.OPUS
        return None
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_MP4_BRANDS:
            return MediaFormat.M4A
        return {b"qt  ": MediaFormat.MOV, b"M4V ": MediaFormat.M4V}.get(brand, MediaFormat.MP4)
    if head[4:8] in _BARE_QUICKTIME:
        return MediaFormat.MOV
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return MediaFormat.MATROSKA
    if head[:4] == b"\x06\x0e\x2b\x34":
        return MediaFormat.MXF
    if head[:4] == b"\x76\x2f\x31\x01":
        return MediaFormat.EXR
    if head[:4] in (b"SDPX", b"XPDS"):
        return MediaFormat.DPX
    if head[:3] == b"ID3" or mpeg_frame_length(head[:4]) is not None:
        return MediaFormat.MP3
    return None


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
        skip = id3v2_size(head)
        if skip:  # an ID3 tag may front a FLAC stream as well as MPEG audio
            handle.seek(skip)
            if handle.read(4) == b"fLaC":
                return b"fLaC"
    return head


def _special_kind(mode: int) -> str:
    kinds = [(stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")]
    return next((name for test, name in kinds if test(mode)), "socket" if stat.S_ISSOCK(mode) else "special file")


def detect(path: Path) -> FormatInfo:
    """The format of ``path`` by content, or a DisclosureError saying why not."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise DisclosureError(path, "is a folder, not a file")
        if not stat.S_ISREG(mode):  # opening a FIFO would wait for a writer forever
            raise DisclosureError(path, f"is a {_special_kind(mode)}, not a regular file; it was not opened")
        head = _read_head(path)
    except FileNotFoundError:
        raise DisclosureError(path, "no such file") from None
    except PermissionError:
        raise DisclosureError(path, "permission denied", "check the file's read permission") from None
    except OSError as exc:
        raise DisclosureError(path, f"cannot open the file: {exc.strerror or exc}") from None
    if not head:
        raise DisclosureError(path, "is empty (0 bytes)")
    found = sniff(head)
    if found is None:
        raise UnsupportedFormat(path, f"content is not {SUPPORTED} (formats are told by content, not by the extension)")
    return _FORMATS[found]
