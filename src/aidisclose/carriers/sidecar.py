"""Formats aidisclose cannot write into (Matroska/WebM, MXF, OpenEXR, DPX): an XMP sidecar ``NAME.EXT.xmp``.

The media file itself is never opened for writing. Embedded tags that
MediaInfo can see (Matroska ``COPYRIGHT``, ``AIDISCLOSE_*``) are read too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from ..bounded import Overrun
from ..errors import DisclosureError
from ..technical import parse_mediainfo
from .base import Carrier, CarrierChanges, CarrierValues, MetadataStore, Stored, WriteMode, file_sha256, read_file
from .exiv2 import edit_packet, read_packet
from .xmpguard import check_packet_size


def sidecar_path(path: Path) -> Path:
    return path.with_name(path.name + ".xmp")


def embedded_tags(path: Path) -> dict[str, Stored]:
    """Container-level tags MediaInfo exposes, upper-cased; empty when MediaInfo cannot tell."""
    try:
        general = parse_mediainfo(path).general_tracks
    except Overrun:
        raise  # a damaged or hostile file: say so
    except DisclosureError:
        return {}
    data: dict[str, Any] = general[0].to_data() if general else {}
    return {k.upper(): [str(v)] for k, v in data.items() if k == "copyright" or k.startswith("aidisclose_")}


def _read_sidecar(sidecar: Path) -> bytes | None:
    """The sidecar's packet, None when there is none; one over the packet limit is refused unread."""
    try:
        size = sidecar.stat().st_size
    except FileNotFoundError:
        return None
    check_packet_size(size, sidecar)
    return read_file(sidecar)


class SidecarStore(MetadataStore):
    """XMP in ``NAME.EXT.xmp``, for formats no maintained library writes metadata into.

    ``essence`` digests what must not change: by default all of the file, which is never
    opened for writing; for formats the C2PA SDK embeds a manifest into, the part the SDK
    leaves alone (a BMFF format's media data, a GIF's decoded frames).
    """

    carriers = (Carrier.XMP,)
    write_mode: ClassVar[WriteMode] = WriteMode.SIDECAR

    def __init__(self, essence: Callable[[Path], str] = file_sha256) -> None:
        self.essence = essence

    def sidecar_of(self, path: Path) -> Path:
        return sidecar_path(path)

    def read(self, path: Path) -> CarrierValues:
        return self.read_written(path, sidecar_path(path))

    def read_writable(self, path: Path) -> CarrierValues:
        """The sidecar's XMP alone: the embedded tags are never written (and need MediaInfo to read)."""
        sidecar = sidecar_path(path)
        return {Carrier.XMP: read_packet(_read_sidecar(sidecar), sidecar)}

    def read_written(self, path: Path, written: Path) -> CarrierValues:
        """The media file's embedded tags with the XMP of the sidecar ``written`` (which may not exist)."""
        packet = _read_sidecar(written)
        return {Carrier.XMP: read_packet(packet, written), Carrier.EMBEDDED: embedded_tags(path)}

    def write(self, source: Path, target: Path, changes: CarrierChanges) -> None:
        """Write the new sidecar of ``source`` to ``target``, starting from the one it has (XMP of other tools kept)."""
        existing = sidecar_path(source)
        packet = _read_sidecar(existing)
        target.write_bytes(edit_packet(packet, existing, changes))

    def essence_digest(self, path: Path) -> str:
        return self.essence(path)
