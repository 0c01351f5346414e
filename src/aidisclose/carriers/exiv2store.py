"""The exiv2 store for images: XMP and IPTC IIM through exiv2, pixels through Pillow."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from ..containers.stills import splice_jpeg_carriers, splice_tiff_iim
from ..containers.tiff import tiff_image_data
from ..errors import DisclosureError
from .base import Carrier, CarrierChanges, CarrierValues, MetadataStore, hash_ranges, read_file
from .exiv2 import edit_image, read_metadata


def pixel_digest(path: Path) -> str:
    """SHA-256 over every frame's decoded pixels (mode, size, raw bytes), through Pillow."""
    from PIL import Image, UnidentifiedImageError  # only stamping decodes pixels: keep it off `check`'s start-up

    digest = hashlib.sha256()
    try:
        with Image.open(path) as image:
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                frame = image.copy()
                digest.update(f"{frame.mode}:{frame.size}:".encode())
                digest.update(frame.tobytes())
    except Image.DecompressionBombError as exc:
        raise DisclosureError(path, f"refused to decode the pixels: {exc}") from None
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
        raise DisclosureError(path, f"cannot decode the image data ({exc}); the file is truncated or corrupt") from None
    return digest.hexdigest()


def tiff_data_digest(path: Path) -> str:
    """SHA-256 over the image data every IFD points at (strips and tiles, raw), for DNG and other raw TIFFs.

    Pillow decodes only a DNG's small preview; the sensor data lives in SubIFDs it does not read.
    """
    return hash_ranges(path, tiff_image_data(path), b"tiff-data")


class Exiv2Store(MetadataStore):
    """Images exiv2 writes (JPEG, PNG, TIFF, WebP...): XMP everywhere, IIM where the format has a place for it."""

    def __init__(self, carriers: tuple[Carrier, ...], essence: Callable[[Path], str] = pixel_digest) -> None:
        self.carriers = carriers
        self.essence = essence

    def read(self, path: Path) -> CarrierValues:
        return read_metadata(read_file(path), path, with_iim=Carrier.IIM in self.carriers)

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        original = read_file(source)
        edited = edit_image(original, source, changes)
        changed = edited.iim_changed
        spliced = splice_jpeg_carriers(original, edited.data, changed) or splice_tiff_iim(
            original, edited.data, changed
        )
        target.write_bytes(spliced or edited.data)

    def essence_digest(self, path: Path) -> str:
        return self.essence(path)
