"""The image metadata store: XMP and IPTC IIM through pyexiv2, pixels through Pillow."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import pyexiv2
from PIL import Image, UnidentifiedImageError

from ..errors import DisclosureError
from .base import CarrierChanges, CarrierValues
from .exif_iptc import IIM
from .xmp import AIDISCLOSE_NS, AIDISCLOSE_PREFIX, XMP

# exiv2 keeps its namespace registry and log level in process-wide state.
_EXIV2_LOCK = threading.Lock()
_exiv2_ready = False


def _exiv2() -> Any:
    global _exiv2_ready
    if not _exiv2_ready:
        pyexiv2.set_log_level(4)  # errors reach us as exceptions; keep stderr clean
        pyexiv2.registerNs(AIDISCLOSE_NS, AIDISCLOSE_PREFIX)
        _exiv2_ready = True
    return pyexiv2


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DisclosureError(path, f"cannot read the file: {exc.strerror or exc}") from None


class Exiv2ImageStore:
    """JPEG, PNG, TIFF, WebP: XMP everywhere, IIM where the format has a place for it."""

    def __init__(self, carriers: tuple[str, ...]) -> None:
        self.carriers = carriers

    def read(self, path: Path) -> CarrierValues:
        data = _read_bytes(path)
        with _EXIV2_LOCK:
            lib = _exiv2()
            try:
                with lib.ImageData(data) as image:
                    xmp = image.read_xmp()
                    iptc = image.read_iptc() if IIM in self.carriers else {}
            except RuntimeError as exc:
                raise DisclosureError(path, f"cannot read the metadata: {exc}") from None
        return {XMP: dict(xmp), IIM: dict(iptc)}

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        data = _read_bytes(source)
        with _EXIV2_LOCK:
            lib = _exiv2()
            try:
                with lib.ImageData(data) as image:
                    if changes.get(XMP):
                        image.modify_xmp(changes[XMP])
                    if changes.get(IIM):
                        image.modify_iptc(changes[IIM])
                    new = image.get_bytes()
            except RuntimeError as exc:
                raise DisclosureError(source, f"cannot write the metadata: {exc}") from None
        with open(target, "wb") as out:
            out.write(new)

    def essence_digest(self, path: Path) -> str:
        """SHA-256 over every frame's decoded pixels (mode, size, raw bytes)."""
        digest = hashlib.sha256()
        try:
            with Image.open(path) as image:
                for index in range(getattr(image, "n_frames", 1)):
                    image.seek(index)
                    frame = image.copy()
                    digest.update(f"{frame.mode}:{frame.size}:".encode())
                    digest.update(frame.tobytes())
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError) as exc:
            raise DisclosureError(
                path, f"cannot decode the image data ({exc}); the file is truncated or corrupt"
            ) from None
        return digest.hexdigest()
