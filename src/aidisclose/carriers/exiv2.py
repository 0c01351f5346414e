"""The one place that talks to exiv2 (pyexiv2): read and edit XMP/IIM in a file image or a bare packet.

exiv2 edits a bare XMP packet as a sidecar file (and reads it through a minimal
JPEG, see below), so the same styles and the same writer serve images and the
packets embedded in audio and video.
"""

from __future__ import annotations

import struct
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.parsers import expat

from ..containers.stills import IimTag, png_chunk_at
from ..errors import DisclosureError
from .base import Carrier, CarrierChanges, CarrierValues, text_list
from .iim import UTF8_CHARSET
from .xmp import AIDISCLOSE_NS, AIDISCLOSE_PREFIX, TC260_NS, TC260_PREFIX
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
    TC260_PREFIX: TC260_NS,
}

# exiv2 keeps its namespace registry and log level in process-wide state.
_LOCK = threading.Lock()
_ready = False

# pybind11 maps exiv2's C++ exceptions to these: Exiv2::Error and std::runtime_error to RuntimeError,
# std::overflow_error (a size that lies) to OverflowError, invalid_argument/length_error to ValueError,
# out_of_range to IndexError, bad_alloc to MemoryError.
_EXIV2_ERRORS = (RuntimeError, OverflowError, ValueError, IndexError, MemoryError)


pyexiv2: Any = None  # loaded on first use: a call that reads no XMP or IIM (``--version``) does not pay for it


def _import_pyexiv2() -> Any:
    """pyexiv2, imported without the ``file`` process its import would start.

    pyexiv2 checks for a 64-bit interpreter with ``platform.architecture()``, which runs ``file`` on
    the interpreter (a process, on every start of every command). Asked with no executable, the same
    function answers from the pointer size alone, which is all that check reads.
    """
    import platform
    from functools import partial

    architecture = platform.architecture
    platform.architecture = partial(architecture, "")
    try:
        import pyexiv2 as lib
    finally:
        platform.architecture = architecture
    return lib


def _lib() -> Any:
    """pyexiv2, with every prefix of PINNED_NAMESPACES bound to its own namespace.

    Reading a packet that binds a known prefix to another URI (a damaged or hostile file) re-points
    that prefix in exiv2's process-wide registry: every later write in the process would put, say,
    ``photoshop:Credit`` in the wrong namespace. So the bindings are set again before each use (5 µs).
    """
    global _ready, pyexiv2
    if not _ready:
        pyexiv2 = _import_pyexiv2()
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


@dataclass(frozen=True)
class Edited:
    """What exiv2 wrote, and what of it the edit asked for (exiv2 writes whole carriers anew)."""

    data: bytes
    #: The IIM datasets the edit wrote or removed (charset re-encodings included); exiv2 rewrote the others.
    iim_changed: frozenset[IimTag]


_IIM_RECORDS = {"Envelope": 1, "Application2": 2}


def _iim_tags(image: Any, keys: set[str]) -> set[IimTag]:
    """The (record, dataset) of each of ``keys`` the image holds, by exiv2's own table."""
    tags = set()
    for key, detail in image.read_iptc_detail(encoding="latin-1").items():
        record = key.split(".")[1]
        if key in keys:
            tags.add((_IIM_RECORDS.get(record) or int(record, 16), int(detail["tagNumber"])))
    return tags


def edit_image(data: bytes, subject: str | Path, changes: CarrierChanges) -> Edited:
    """An image file's bytes with XMP/IIM ``changes`` applied, and the IIM datasets they touched."""
    return _edit(data, subject, changes, packet=False)


def edit_metadata(data: bytes, subject: str | Path, changes: CarrierChanges, packet: bool = False) -> bytes:
    """``data`` (an image file, or a bare XMP packet when ``packet``) with XMP/IIM ``changes`` applied."""
    return _edit(data, subject, changes, packet).data


def _edit(data: bytes, subject: str | Path, changes: CarrierChanges, packet: bool) -> Edited:
    if packet:
        screen_packet(data, subject)
    iim_changed: set[IimTag] = set()
    with _LOCK:
        try:
            with _lib().ImageData(data) as image:
                if not packet:
                    _screen_embedded(image, subject)
                about, has_instance = packet_about(data if packet else first_packet(data))
                xmp = changes.get(Carrier.XMP)
                if xmp:
                    image.modify_xmp(_keeping_instance(image, xmp, about, has_instance))
                if changes.get(Carrier.IIM):
                    iim = _iim_in_utf8(image, changes[Carrier.IIM])
                    iim_changed = _iim_tags(image, set(iim))
                    image.modify_iptc(iim)
                    iim_changed |= _iim_tags(image, set(iim))
                result: bytes = image.get_bytes()
        except _EXIV2_ERRORS as exc:
            raise DisclosureError(subject, f"cannot write the metadata: {exc}") from None
    if xmp and about:
        result = with_about(result, about, bare=packet)
    return Edited(result, frozenset(iim_changed))


#: Where exiv2's XMP writer names the resource a packet describes: always empty, whatever the packet said.
_EXIV2_ABOUT = b'<rdf:Description rdf:about=""'
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_INSTANCE_ID = "Xmp.xmpMM.InstanceID"


def first_packet(data: bytes) -> bytes:
    """The first XMP packet in a file's bytes, found by its wrapper as XMP's packet scanners do; b"" if none.

    exiv2 hands out its own serialisation of what it read, not the packet as stored.
    """
    start = data.find(b"<?xpacket begin=")
    end = data.find(b"<?xpacket end=", start) if start >= 0 else -1
    close = data.find(b"?>", end) if end >= 0 else -1
    return data[start : close + 2] if close >= 0 else b""


def packet_about(packet: bytes) -> tuple[str, bool]:
    """The ``rdf:about`` of a packet's descriptions, and whether it holds an ``xmpMM:InstanceID``; for a
    packet that does not pass :func:`screen_packet`, nothing: ("", True)."""
    try:
        screen_packet(packet, "XMP packet")
    except DisclosureError:
        return "", True
    found: dict[str, Any] = {"about": "", "instance": False}

    def start(name: str, attributes: dict[str, str]) -> None:
        if name == _RDF_NS + "}Description":
            found["about"] = found["about"] or attributes.get(_RDF_NS + "}about", "")
        if name.endswith("/mm/}InstanceID") or any(a.endswith("/mm/}InstanceID") for a in attributes):
            found["instance"] = True

    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = start
    try:
        parser.Parse(packet.rstrip(b"\0 \t\r\n"), True)
    except expat.ExpatError:
        return "", True
    return str(found["about"]), bool(found["instance"])


def _keeping_instance(image: Any, xmp: dict[str, Any], about: str, has_instance: bool) -> dict[str, Any]:
    """``xmp``, removing the ``xmpMM:InstanceID`` exiv2's XMP toolkit makes of a ``uuid:`` about on reading."""
    if has_instance or not about or _INSTANCE_ID in xmp or image.read_xmp().get(_INSTANCE_ID) != about:
        return xmp
    return {**xmp, _INSTANCE_ID: None}


def _attribute(text: str) -> bytes:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return "".join(c if c >= " " else f"&#{ord(c)};" for c in escaped).encode("utf-8")


def with_about(data: bytes, about: str, bare: bool = False) -> bytes:
    """``data`` with the packet exiv2 wrote in it describing ``about`` again, as the packet read did.

    In a file the packet keeps its length (the name takes the place of padding) and a PNG chunk its
    checksum, so no offset moves; a packet that is not there once, or has too little padding, is left.
    """
    position = data.find(_EXIV2_ABOUT)
    if position < 0 or data.find(_EXIV2_ABOUT, position + 1) >= 0:
        return data
    name = _attribute(about)
    patched = data[:position] + _EXIV2_ABOUT[:-1] + name + data[position + len(_EXIV2_ABOUT) - 1 :]
    if bare:
        return patched
    trailer = patched.find(b"<?xpacket end=", position)
    pad_start = trailer - len(name)
    if trailer < 0 or patched[pad_start:trailer].strip(b" \t\r\n"):
        return data
    patched = patched[:pad_start] + patched[trailer:]
    chunk = png_chunk_at(patched, position)
    if chunk is not None:
        start, end = chunk
        crc = zlib.crc32(patched[start + 4 : end - 4]).to_bytes(4, "big")
        patched = patched[: end - 4] + crc + patched[end:]
    return patched


#: Packets already read, by their bytes: a delivery stamped with one record carries the same packet in every
#: file of a container family (MP4, MOV and M4A alike), and exiv2's parse of it is most of reading one. Only
#: what parsed is kept (a refusal is met again), a few small packets at most, so memory does not grow.
_PACKETS: dict[bytes, dict[str, Any]] = {}
_PACKETS_MAX = 32
_PACKET_MAX_BYTES = 64 << 10


def read_packet(packet: bytes | None, subject: str | Path) -> dict[str, Any]:
    """The XMP values of an embedded packet; a packet exiv2 cannot parse is reported, not fatal."""
    if not packet:
        return {}
    known = _PACKETS.get(packet)
    if known is None:
        known = read_metadata(packet, subject, packet=True)[Carrier.XMP]
        if len(packet) <= _PACKET_MAX_BYTES:
            if len(_PACKETS) >= _PACKETS_MAX:
                _PACKETS.clear()  # (never iterated: safe beside another thread's read)
            _PACKETS[bytes(packet)] = known
    return _values_copy(known)


def _values_copy(values: dict[str, Any]) -> dict[str, Any]:
    """A copy of what exiv2 read (text, lists of text, language alternatives), for a caller to keep or change."""
    return {k: list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v for k, v in values.items()}


def edit_packet(packet: bytes | None, subject: str | Path, changes: CarrierChanges) -> bytes:
    """A new packet: the old one (or an empty one) with the XMP ``changes`` applied."""
    return edit_metadata(packet or EMPTY_PACKET, subject, {Carrier.XMP: changes.get(Carrier.XMP, {})}, packet=True)
