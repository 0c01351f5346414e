"""A look at the headers for an embedded manifest store, through each container's own walker.

The SDK scans the whole file to find none, which costs more than the rest of a
read; each function here looks where its format keeps the store (JPEG APP11,
PNG caBX, TIFF tag 52545, RIFF C2PA, BMFF uuid, ID3 GEOB in MP3 and FLAC) and
says True whenever it is not sure, so the SDK then looks.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ...containers.bmff import read_boxes, uuid_boxes
from ...containers.id3 import id3v2_size
from ...containers.riff import iter_chunks
from ...containers.stills import jpeg_markers, png_chunk_types, tiff_first_ifd_tags
from ...errors import DisclosureError

C2PA_BMFF_UUID = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")
C2PA_TIFF_TAG = 52545  # 0xCD41, an entry of the first IFD pointing at the manifest store
_APP11 = 0xEB  # JPEG APP11 carries JUMBF
_HEAD = 1 << 16
_REMOTE_REFERENCE = b"dcterms:provenance"
#: The GEOB media types of a manifest store: C2PA 2.x, and the deprecated one of C2PA 1.x files.
_ID3_TYPES = (b"application/c2pa", b"application/x-c2pa-manifest-store")


#: A look at one file: its open handle and its first 64 KiB (read once, for every look and the remote check).
Look = Callable[[BinaryIO, bytes, Path], bool]


def _unsure_is_true(look: Look) -> Callable[[Path], bool]:
    """``look`` made safe, and True for a file whose XMP points at a remote manifest (``dcterms:provenance``).

    The file is opened once, and its head read once, for both.
    """

    @functools.wraps(look)
    def guarded(path: Path) -> bool:
        try:
            with open(path, "rb") as handle:
                head = handle.read(_HEAD)
                return look(handle, head, path) or _points_at_remote(head)
        except (OSError, ValueError, IndexError, DisclosureError):
            return True  # unsure: let the SDK look

    return guarded


def _points_at_remote(head: bytes) -> bool:
    """An XMP packet near the start naming a remote manifest store (an external manifest)."""
    return _REMOTE_REFERENCE in head


def _size(handle: BinaryIO) -> int:
    return os.fstat(handle.fileno()).st_size


@_unsure_is_true
def jpeg_may_hold(handle: BinaryIO, head: bytes, path: Path) -> bool:
    markers = list(jpeg_markers(head))
    if None in markers or _APP11 in markers:
        return True  # damage where a marker should be, or JUMBF
    return not markers or markers[-1] not in (0xDA, 0xD9)  # False only once the scan starts with no APP11


@_unsure_is_true
def png_may_hold(handle: BinaryIO, head: bytes, path: Path) -> bool:
    kinds = list(png_chunk_types(handle))  # the spec recommends caBX before IDAT, but does not require it
    return b"caBX" in kinds or not kinds or kinds[-1] != b"IEND"


@_unsure_is_true
def tiff_may_hold(handle: BinaryIO, head: bytes, path: Path) -> bool:
    tags = tiff_first_ifd_tags(handle, head[:8])
    return tags is None or C2PA_TIFF_TAG in tags  # BigTIFF or an unreadable IFD: let the SDK look


@_unsure_is_true
def riff_may_hold(handle: BinaryIO, head: bytes, path: Path) -> bool:
    return any(c.fourcc == b"C2PA" for c in iter_chunks(handle, 12, _size(handle)))


@_unsure_is_true
def bmff_may_hold(handle: BinaryIO, head: bytes, path: Path) -> bool:
    top = read_boxes(handle, 0, _size(handle), path)
    return any(kind == C2PA_BMFF_UUID for _, kind in uuid_boxes(handle, top))


@_unsure_is_true
def id3_may_hold(handle: BinaryIO, head: bytes, path: Path) -> bool:
    """MP3 and FLAC: the store is a GEOB frame of a leading ID3 tag, of either media type the SDK reads."""
    size = id3v2_size(head[:10])
    if size > len(head):
        handle.seek(0)
        tag = handle.read(size)
    else:
        tag = head[:size] if size > 0 else b""
    return any(kind in tag for kind in _ID3_TYPES)


@_unsure_is_true
def jumbf_box_may_hold(handle: BinaryIO, head: bytes, path: Path) -> bool:
    """JPEG XL: the store is a top-level ``jumb`` box."""
    return any(found.kind == b"jumb" for found in read_boxes(handle, 0, _size(handle), path))
