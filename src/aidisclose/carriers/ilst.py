"""iTunes-style metadata items in ``moov/udta/meta/ilst``: read them, and build a new ``moov`` with ours changed.

Items are freeform atoms ``----`` (``mean`` ``org.aidisclose``, ``name``,
UTF-8 ``data``) plus ``cprt``, the layout mutagen and ExifTool read. Only
the ``udta/meta/ilst`` path is rebuilt; every other byte of ``moov`` (tracks,
sample tables, chunk offsets) is copied as it is, and every other item in
``ilst`` is kept in order.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable, Mapping
from pathlib import Path

from ..containers.bmff import box, read_boxes
from .base import Stored

FREEFORM_MEAN = "org.aidisclose"
FREEFORM = f"----:{FREEFORM_MEAN}:"
#: China's implicit label (GB 45438-2025) in the freeform atom its implementers use.
ITUNES_AIGC = "----:com.apple.iTunes:AIGC"
_UTF8 = 1
_ANY = Path("<moov>")
#: hdlr for an iTunes metadata box: handler 'mdir', manufacturer 'appl'.
_HDLR_MDIR = struct.pack(
    ">I4s4s4s4s4s4s4sB", 33, b"hdlr", b"\0" * 4, b"\0" * 4, b"mdir", b"appl", b"\0" * 4, b"\0" * 4, 0
)


def _children(payload: bytes) -> list[tuple[bytes, bytes]]:
    """(type, payload) of every box in ``payload``; sizes are checked as for files."""
    boxes = read_boxes(io.BytesIO(payload), 0, len(payload), _ANY)
    return [(b.kind, payload[b.payload : b.end]) for b in boxes]


def _item_key(kind: bytes, payload: bytes) -> str:
    if kind != b"----":
        return kind.decode("latin-1")
    parts = {k: v[4:].decode("utf-8", "replace") for k, v in _children(payload) if k in (b"mean", b"name")}
    return f"----:{parts.get(b'mean', '')}:{parts.get(b'name', '')}"


def _item_values(payload: bytes) -> list[str]:
    return [v[8:].decode("utf-8", "replace") for k, v in _children(payload) if k == b"data" and len(v) >= 8]


def _item(key: str, values: list[str]) -> bytes:
    data = b"".join(box(b"data", struct.pack(">II", _UTF8, 0) + v.encode("utf-8")) for v in values)
    if not key.startswith("----:"):
        return box(key.encode("latin-1"), data)
    _, mean, name = key.split(":", 2)
    mean_box = box(b"mean", b"\0\0\0\0" + mean.encode("utf-8"))
    name_box = box(b"name", b"\0\0\0\0" + name.encode("utf-8"))
    return box(b"----", mean_box + name_box + data)


def _is_full_meta(payload: bytes) -> bool:
    """iTunes 'meta' is a FullBox (version/flags 0 before its children); QuickTime's starts with a child.

    A child box never has size 0 inside 'meta', so four zero bytes can only be version and flags.
    """
    return payload[:4] == b"\0\0\0\0"


def _replace_child(payload: bytes, kind: bytes, update: Callable[[bytes | None], bytes]) -> bytes:
    """``payload`` with its first ``kind`` child rebuilt by ``update`` (appended if there was none)."""
    parts, done = [], False
    for child_kind, child in _children(payload):
        if child_kind == kind and not done:
            parts.append(box(kind, update(child)))
            done = True
        else:
            parts.append(box(child_kind, child))
    if not done:
        parts.append(box(kind, update(None)))
    return b"".join(parts)


def _find(payload: bytes, *path: bytes) -> bytes | None:
    for kind in path:
        found = next((child for k, child in _children(payload) if k == kind), None)
        if found is None:
            return None
        payload = found[4:] if kind == b"meta" and _is_full_meta(found) else found
    return payload


def read_items(moov_payload: bytes) -> dict[str, Stored]:
    """Our items (freeform ``org.aidisclose`` atoms, ``cprt``, China's ``AIGC`` label) as key -> values."""
    ilst = _find(moov_payload, b"udta", b"meta", b"ilst")
    if ilst is None:
        return {}
    items: dict[str, Stored] = {}
    for kind, payload in _children(ilst):
        key = _item_key(kind, payload)
        if key.startswith(FREEFORM) or key in ("cprt", ITUNES_AIGC):
            items[key] = _item_values(payload)
    return items


def rebuild_moov_payload(moov_payload: bytes, changes: Mapping[str, list[str] | None]) -> bytes:
    """The ``moov`` payload with ``changes`` (key -> values, None deletes) applied to its ``ilst``."""

    def ilst(payload: bytes | None) -> bytes:
        kept = [box(k, p) for k, p in _children(payload or b"") if _item_key(k, p) not in changes]
        added = [_item(key, values) for key, values in changes.items() if values is not None]
        return b"".join(kept + added)

    def meta(payload: bytes | None) -> bytes:
        if payload is None:
            return b"\0\0\0\0" + _HDLR_MDIR + box(b"ilst", ilst(None))
        if _is_full_meta(payload):
            return payload[:4] + _replace_child(payload[4:], b"ilst", ilst)
        return _replace_child(payload, b"ilst", ilst)

    def without_legacy_xmp(payload: bytes) -> bytes:
        return b"".join(box(k, p) for k, p in _children(payload) if k != b"XMP_")

    # QuickTime's older XMP place (udta/XMP_, in any udta) goes: the top-level XMP box holds the record.
    moov = b"".join(box(k, without_legacy_xmp(p) if k == b"udta" else p) for k, p in _children(moov_payload))
    return _replace_child(moov, b"udta", lambda payload: _replace_child(payload or b"", b"meta", meta))
