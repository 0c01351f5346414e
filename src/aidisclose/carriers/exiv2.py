"""The one place that talks to exiv2 (pyexiv2): read and edit XMP/IIM in a file image or a bare packet.

exiv2 treats a bare XMP packet as a sidecar file, so the same styles and the
same writer serve images and the packets embedded in audio and video.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pyexiv2

from ..errors import DisclosureError
from .base import CarrierChanges, CarrierValues
from .exif_iptc import IIM
from .xmp import AIDISCLOSE_NS, AIDISCLOSE_PREFIX, XMP

#: A valid, empty XMP packet: the start for a container that has none yet.
EMPTY_PACKET = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    b'</x:xmpmeta><?xpacket end="w"?>'
)

# exiv2 keeps its namespace registry and log level in process-wide state.
_LOCK = threading.Lock()
_ready = False


def _lib() -> Any:
    global _ready
    if not _ready:
        pyexiv2.set_log_level(4)  # errors reach us as exceptions; keep stderr clean
        pyexiv2.registerNs(AIDISCLOSE_NS, AIDISCLOSE_PREFIX)
        _ready = True
    return pyexiv2


def read_metadata(data: bytes, subject: str | Path, with_iim: bool = False) -> CarrierValues:
    """XMP (and optionally IIM) of an image file's bytes or of a bare XMP packet."""
    with _LOCK:
        try:
            with _lib().ImageData(data) as image:
                xmp = image.read_xmp()
                iptc = image.read_iptc() if with_iim else {}
        except RuntimeError as exc:
            raise DisclosureError(subject, f"cannot read the metadata: {exc}") from None
    return {XMP: dict(xmp), IIM: dict(iptc)} if with_iim else {XMP: dict(xmp)}


def edit_metadata(data: bytes, subject: str | Path, changes: CarrierChanges) -> bytes:
    """``data`` (an image file or a bare XMP packet) with XMP/IIM ``changes`` applied."""
    with _LOCK:
        try:
            with _lib().ImageData(data) as image:
                if changes.get(XMP):
                    image.modify_xmp(changes[XMP])
                if changes.get(IIM):
                    image.modify_iptc(changes[IIM])
                result: bytes = image.get_bytes()
        except RuntimeError as exc:
            raise DisclosureError(subject, f"cannot write the metadata: {exc}") from None
    return result


def read_packet(packet: bytes | None, subject: str | Path) -> dict[str, Any]:
    """The XMP values of an embedded packet; a packet exiv2 cannot parse is reported, not fatal."""
    if not packet:
        return {}
    return read_metadata(packet, subject)[XMP]


def edit_packet(packet: bytes | None, subject: str | Path, changes: CarrierChanges) -> bytes:
    """A new packet: the old one (or an empty one) with the XMP ``changes`` applied."""
    return edit_metadata(packet or EMPTY_PACKET, subject, {XMP: changes.get(XMP, {})})
