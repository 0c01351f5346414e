"""Hostile inputs built from the bundled fixtures: XML bombs in every XMP carrier, lying containers.

Used by the tests and by ``scripts/reliability_report.py``; every builder writes
a new file and returns its path, never touching ``fixtures/``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from mutagen.id3 import ID3, PRIV

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")
_HEAD = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>'
_RDF = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
_TAIL = b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'


def _packet(doctype: bytes, value: bytes) -> bytes:
    description = (
        b'<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/">'
        b"<Iptc4xmpExt:DigitalSourceType>" + value + b"</Iptc4xmpExt:DigitalSourceType></rdf:Description>"
    )
    return _HEAD + doctype + _RDF + description + _TAIL


def _laughs() -> bytes:
    entities = b'<!ENTITY a "lollollollol">' + b"".join(
        b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(9)
    )
    return _packet(b"<!DOCTYPE x [" + entities + b"]>", b"&j;")


#: Well-formed, but binds a standard prefix to a foreign namespace: exiv2 keeps that binding process-wide.
REBINDS_DC = (
    _HEAD
    + _RDF
    + b'<rdf:Description rdf:about="" xmlns:dc="http://example.invalid/not-dc/" '
    + b'dc:format="spoof"/>'
    + _TAIL
)

#: The packets, by the attack they carry.
PACKETS: dict[str, bytes] = {
    "billion-laughs": _laughs(),
    "external-entity": _packet(b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', b"&e;"),
    "external-dtd": _packet(b'<!DOCTYPE x SYSTEM "http://attacker.invalid/x.dtd">', b"x"),
    "deep-nesting": _HEAD + _RDF + b"<a>" * 5000 + b"</a>" * 5000 + _TAIL,
    "invalid-utf8": _packet(b"", b"\xff\xfe\xc3("),
    "not-well-formed": _packet(b"", b"<unclosed>"),
    "unbound-prefix": _packet(b"", b"<undeclared:value>x</undeclared:value>"),
}


def _jpeg(packet: bytes, folder: Path) -> Path:
    data = (FIXTURES / "images" / "photo.jpg").read_bytes()
    body = b"http://ns.adobe.com/xap/1.0/\0" + packet
    segment = b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body
    path = folder / "hostile.jpg"
    path.write_bytes(data[:2] + segment + data[2:])
    return path


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    import zlib

    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(packet: bytes, folder: Path) -> Path:
    data = (FIXTURES / "images" / "overlay.png").read_bytes()
    itxt = _png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0" + packet)
    path = folder / "hostile.png"
    path.write_bytes(data[:33] + itxt + data[33:])  # after the signature and IHDR
    return path


def _mp3(packet: bytes, folder: Path) -> Path:
    path = folder / "hostile.mp3"
    path.write_bytes((FIXTURES / "audio" / "tone.mp3").read_bytes())
    tags = ID3(path)
    tags.add(PRIV(owner="XMP", data=packet))
    tags.save(path)
    return path


def riff_chunk(fourcc: bytes, payload: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")


def _wav(packet: bytes, folder: Path) -> Path:
    data = bytearray((FIXTURES / "audio" / "tone.wav").read_bytes())
    data += riff_chunk(b"_PMX", packet)
    data[4:8] = struct.pack("<I", len(data) - 8)
    path = folder / "hostile.wav"
    path.write_bytes(bytes(data))
    return path


def bmff_box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _mp4(packet: bytes, folder: Path) -> Path:
    path = folder / "hostile.mp4"
    path.write_bytes((FIXTURES / "video" / "clip.mp4").read_bytes() + bmff_box(b"uuid", XMP_UUID + packet))
    return path


def _sidecar(packet: bytes, folder: Path) -> Path:
    path = folder / "hostile.mkv"
    path.write_bytes((FIXTURES / "video" / "clip.mkv").read_bytes())
    (folder / "hostile.mkv.xmp").write_bytes(packet)
    return path


#: Every place an XMP packet is read from, by carrier name: builder(packet, folder) -> media file.
XMP_CARRIERS: dict[str, Callable[[bytes, Path], Path]] = {
    "jpeg-app1": _jpeg,
    "png-itxt": _png,
    "mp3-priv": _mp3,
    "wav-pmx": _wav,
    "mp4-uuid": _mp4,
    "mkv-sidecar": _sidecar,
}
