"""The one place that talks to exiv2 (pyexiv2): read and edit XMP/IIM in a file image or a bare packet.

exiv2 edits a bare XMP packet as a sidecar file (and reads it through a minimal
JPEG, see below), so the same styles and the same writer serve images and the
packets embedded in audio and video.
"""

from __future__ import annotations

import struct
import threading
from pathlib import Path
from typing import Any

import pyexiv2

from ..errors import DisclosureError
from .base import Carrier, CarrierChanges, CarrierValues, text_list
from .iim import UTF8_CHARSET
from .xmp import AIDISCLOSE_NS, AIDISCLOSE_PREFIX
from .xmpguard import screen_packet

#: A valid, empty XMP packet: the start for a container that has none yet.
EMPTY_PACKET = (
    b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    b'</x:xmpmeta><?xpacket end="w"?>'
)

#: exiv2 opens a bare packet as an XMP sidecar file, whose reader goes on to convert every property to
#: Exif and IPTC: work a reader throws away, and more than the parse itself (0.41 ms against 0.18 ms for
#: a stamped record). A packet that fits one JPEG APP1 segment is read from a minimal JPEG in memory
#: instead, whose reader hands the same bytes to the same XmpParser::decode and does nothing else.
_APP1_XMP = b"http://ns.adobe.com/xap/1.0/\0"
_MAX_APP1_PACKET = 0xFFFF - 2 - len(_APP1_XMP)

#: The namespaces of the XMP keys aidisclose reads and writes, by the prefix in those keys.
PINNED_NAMESPACES = {
    AIDISCLOSE_PREFIX: AIDISCLOSE_NS,
    "dc": "http://purl.org/dc/elements/1.1/",
    "iptcExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "plus": "http://ns.useplus.org/ldf/xmp/1.0/",
    "xmpRights": "http://ns.adobe.com/xap/1.0/rights/",
}

# exiv2 keeps its namespace registry and log level in process-wide state.
_LOCK = threading.Lock()
_ready = False

# pybind11 maps exiv2's C++ exceptions to these: Exiv2::Error and std::runtime_error to RuntimeError,
# std::overflow_error (a size that lies) to OverflowError, invalid_argument/length_error to ValueError,
# out_of_range to IndexError, bad_alloc to MemoryError.
_EXIV2_ERRORS = (RuntimeError, OverflowError, ValueError, IndexError, MemoryError)


def _lib() -> Any:
    """pyexiv2, with every prefix of PINNED_NAMESPACES bound to its own namespace.

    Reading a packet that binds a known prefix to another URI (a damaged or hostile file) re-points
    that prefix in exiv2's process-wide registry: every later write in the process would put, say,
    ``photoshop:Credit`` in the wrong namespace. So the bindings are set again before each use (5 µs).
    """
    global _ready
    if not _ready:
        pyexiv2.set_log_level(4)  # errors reach us as exceptions; keep stderr clean
        _ready = True
    for prefix, namespace in PINNED_NAMESPACES.items():
        pyexiv2.registerNs(namespace, prefix)
    return pyexiv2


def _screen_embedded(image: Any, subject: str | Path) -> None:
    """Screen the packet exiv2 found in an image file (a bare packet is screened before exiv2 sees it)."""
    raw = image.read_raw_xmp("latin-1").encode("latin-1")  # latin-1 both ways: the bytes as stored
    if raw:
        screen_packet(raw, subject)


def _iim_text(raw: str, utf8: bool) -> str:
    """One IIM value, its bytes given as Latin-1 characters, as text.

    UTF-8 where the block declares it (1:90 ESC % G), else Windows-1252, as ExifTool reads a block
    that names no charset (its five unassigned bytes as Latin-1).
    """
    data = raw.encode("latin-1")
    if utf8:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass  # declared UTF-8 but is not (an older writer's mixture): read as the fallback
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in data)


def _raw_iim(image: Any) -> dict[str, Any]:
    """IIM values with their bytes as Latin-1 characters: lossless whatever the charset."""
    return dict(image.read_iptc(encoding="latin-1"))


def _declares_utf8(raw: dict[str, Any]) -> bool:
    return raw.get(UTF8_CHARSET[0]) == UTF8_CHARSET[1]


def _decoded_iim(raw: dict[str, Any]) -> dict[str, Any]:
    utf8 = _declares_utf8(raw)
    return {
        k: [_iim_text(v, utf8) for v in value] if isinstance(value, list) else _iim_text(value, utf8)
        for k, value in raw.items()
    }


def _read_iim(image: Any) -> dict[str, Any]:
    """IIM decoded by the charset the block declares (see ``_iim_text``)."""
    return _decoded_iim(_raw_iim(image))


def _iim_in_utf8(image: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """``changes``, plus every other non-ASCII text dataset re-encoded, when they switch the block to UTF-8.

    Otherwise the UTF-8 mark would stand over Latin-1 bytes another tool wrote (``Zürich`` read as ``Z?rich``).
    """
    raw = _raw_iim(image)
    if changes.get(UTF8_CHARSET[0]) != UTF8_CHARSET[1] or _declares_utf8(raw):
        return changes
    types = {k: d.get("typeName") for k, d in image.read_iptc_detail(encoding="latin-1").items()}
    decoded = _decoded_iim(raw)
    recoded = {
        k: decoded[k]
        for k, value in raw.items()
        if k not in changes and types.get(k) == "String" and not all(v.isascii() for v in text_list(value))
    }
    return {**recoded, **changes}


def _packet_in_jpeg(packet: bytes) -> bytes:
    """``packet`` as the only segment of an otherwise empty JPEG, if it fits one; else as it is."""
    if len(packet) > _MAX_APP1_PACKET:
        return packet
    body = _APP1_XMP + packet
    return b"\xff\xd8\xff\xe1" + struct.pack(">H", 2 + len(body)) + body + b"\xff\xd9"


def read_metadata(data: bytes, subject: str | Path, with_iim: bool = False, packet: bool = False) -> CarrierValues:
    """XMP (and optionally IIM) of an image file's bytes, or of a bare XMP packet when ``packet``."""
    if packet:
        screen_packet(data, subject)
        data = _packet_in_jpeg(data)
    with _LOCK:
        try:
            with _lib().ImageData(data) as image:
                if not packet:
                    _screen_embedded(image, subject)
                xmp = image.read_xmp()
                iptc = _read_iim(image) if with_iim else {}
        except _EXIV2_ERRORS as exc:
            raise DisclosureError(subject, f"cannot read the metadata: {exc}") from None
    return {Carrier.XMP: dict(xmp), Carrier.IIM: dict(iptc)} if with_iim else {Carrier.XMP: dict(xmp)}


def edit_metadata(data: bytes, subject: str | Path, changes: CarrierChanges, packet: bool = False) -> bytes:
    """``data`` (an image file, or a bare XMP packet when ``packet``) with XMP/IIM ``changes`` applied."""
    if packet:
        screen_packet(data, subject)
    with _LOCK:
        try:
            with _lib().ImageData(data) as image:
                if not packet:
                    _screen_embedded(image, subject)
                if changes.get(Carrier.XMP):
                    image.modify_xmp(changes[Carrier.XMP])
                if changes.get(Carrier.IIM):
                    image.modify_iptc(_iim_in_utf8(image, changes[Carrier.IIM]))
                result: bytes = image.get_bytes()
        except _EXIV2_ERRORS as exc:
            raise DisclosureError(subject, f"cannot write the metadata: {exc}") from None
    return result


def read_packet(packet: bytes | None, subject: str | Path) -> dict[str, Any]:
    """The XMP values of an embedded packet; a packet exiv2 cannot parse is reported, not fatal."""
    if not packet:
        return {}
    return read_metadata(packet, subject, packet=True)[Carrier.XMP]


def edit_packet(packet: bytes | None, subject: str | Path, changes: CarrierChanges) -> bytes:
    """A new packet: the old one (or an empty one) with the XMP ``changes`` applied."""
    return edit_metadata(packet or EMPTY_PACKET, subject, {Carrier.XMP: changes.get(Carrier.XMP, {})}, packet=True)
