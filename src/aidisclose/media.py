"""Detect a file's format from its content and pick the metadata store for it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from .carriers.base import MetadataStore
from .carriers.exif_iptc import IIM
from .carriers.image import Exiv2ImageStore
from .carriers.xmp import XMP
from .errors import DisclosureError


class MediaFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    TIFF = "tiff"
    WEBP = "webp"


@dataclass(frozen=True)
class FormatInfo:
    format: MediaFormat
    mime: str
    store: MetadataStore


_FORMATS: dict[MediaFormat, FormatInfo] = {
    MediaFormat.JPEG: FormatInfo(MediaFormat.JPEG, "image/jpeg", Exiv2ImageStore((XMP, IIM))),
    MediaFormat.PNG: FormatInfo(MediaFormat.PNG, "image/png", Exiv2ImageStore((XMP,))),
    MediaFormat.TIFF: FormatInfo(MediaFormat.TIFF, "image/tiff", Exiv2ImageStore((XMP, IIM))),
    MediaFormat.WEBP: FormatInfo(MediaFormat.WEBP, "image/webp", Exiv2ImageStore((XMP,))),
}

SUPPORTED = "JPEG, PNG, TIFF or WebP"


def sniff(head: bytes) -> MediaFormat | None:
    """The format whose signature ``head`` (the first bytes of a file) carries."""
    if head.startswith(b"\xff\xd8\xff"):
        return MediaFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaFormat.PNG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return MediaFormat.TIFF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaFormat.WEBP
    return None


def detect(path: Path) -> FormatInfo:
    """The format of ``path`` by content, or a DisclosureError saying why not."""
    try:
        if path.is_dir():
            raise DisclosureError(path, "is a folder, not a file")
        with open(path, "rb") as handle:
            head = handle.read(64)
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
        raise DisclosureError(
            path,
            f"content is not {SUPPORTED} (formats are told by content, not by the extension)",
        )
    return _FORMATS[found]
