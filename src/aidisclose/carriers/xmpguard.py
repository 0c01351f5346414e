"""Screen an XMP packet before any value in it is trusted: hostile XML is refused with a reason.

Every packet aidisclose reads or edits passes here. expat parses it, with the
guard defusedxml uses: a document type declaration (``<!DOCTYPE``, the only
place entities can be declared or an external DTD named) stops the parse, so
"billion laughs" expansion and external entities (XXE) never happen. The
handlers only count depth (no tree is built: this runs on every packet of every
file of a delivery); packets over :data:`MAX_PACKET_BYTES` or nested deeper
than :data:`MAX_DEPTH` elements are refused before exiv2 builds its data model.
A refused packet makes the file an error with one line saying why, never an
empty record: a file whose disclosure cannot be read must not pass a check.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any
from xml.parsers import expat

from ..errors import DisclosureError

#: Far above any real packet (a full record is ~6 KB; Photoshop history rarely passes 1 MB).
MAX_PACKET_BYTES = 16 << 20
#: XMP structs nest a handful of levels; 64 leaves room for any real schema.
MAX_DEPTH = 64

_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF32_LE)


def check_packet_size(size: int, subject: str | Path) -> None:
    """Refuse a packet by its declared size, before it is read into memory."""
    if size > MAX_PACKET_BYTES:
        raise DisclosureError(
            subject, f"its XMP packet is {size:,} bytes, over the {MAX_PACKET_BYTES >> 20} MiB limit; refused unread"
        )


def screen_packet(packet: bytes, subject: str | Path) -> None:
    """Raise DisclosureError unless ``packet`` is plain, well-formed XML within the size and depth limits."""
    check_packet_size(len(packet), subject)
    body = packet.rstrip(b"\0 \t\r\n")  # padding some writers leave after the trailer
    if not body.startswith(_BOMS):
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DisclosureError(
                subject, f"its XMP packet is not valid UTF-8 (byte {body[exc.start]:#04x} at offset {exc.start})"
            ) from None
    parser = expat.ParserCreate(namespace_separator="}")  # namespace-aware, as ElementTree: unbound prefixes fail
    depth = 0

    def start(_name: str, _attributes: Any) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_DEPTH:
            raise DisclosureError(subject, f"its XMP packet nests deeper than {MAX_DEPTH} elements; refused")

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def doctype(*_declaration: Any) -> None:
        raise DisclosureError(
            subject, "its XMP packet declares a DTD (<!DOCTYPE>); refused (entities are never expanded)"
        )

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise DisclosureError(subject, f"its XMP packet is not well-formed XML ({exc})") from None
