"""The formats aidisclose knows: one ordered table, and telling a file's format by its content.

Each row says everything the rest of the code asks of a format: its name and
MIME type, how its header is recognised (a score, as mutagen's ``File()``
scores headers: the highest wins, ties go to the earlier row), the metadata
store that reads and writes it, where C2PA keeps its manifest store (embedded
by the SDK, with a header pre-scan, or a ``NAME.EXT.c2pa`` sidecar) and how a
report previews it. Adding a format is one row here, plus at most a store.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property, partial
from pathlib import Path

from .carriers.base import Carrier, MetadataStore
from .carriers.c2pa import prescan
from .carriers.c2pa.place import ManifestPlace
from .containers.id3 import id3v2_size, mpeg_frame_length
from .containers.ogg import first_packet
from .containers.stills import tiff_first_ifd_tags
from .errors import DisclosureError, UnsupportedFormat


class MediaFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    TIFF = "tiff"
    WEBP = "webp"
    MP3 = "mp3"
    WAV = "wav"
    FLAC = "flac"
    OGG_VORBIS = "ogg-vorbis"
    OPUS = "opus"
    M4A = "m4a"
    MP4 = "mp4"
    MOV = "mov"
    M4V = "m4v"
    MATROSKA = "matroska"
    MXF = "mxf"
    EXR = "exr"
    DPX = "dpx"
    HEIC = "heic"
    HEIF = "heif"
    AVIF = "avif"
    GIF = "gif"
    JXL = "jxl"
    JXL_CODESTREAM = "jxl-codestream"
    AVI = "avi"
    DNG = "dng"
    PSD = "psd"
    AIFF = "aiff"
    OGG_FLAC = "ogg-flac"
    SPEEX = "speex"


class Kind(StrEnum):
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"


class Preview(StrEnum):
    """How the HTML report shows a file: its pixels through Pillow, its first frame through ffmpeg, or by name."""

    PIXELS = "pixels"
    FFMPEG = "ffmpeg"
    NONE = "none"


#: How sure a recogniser is that a header is its format; 0 is "not this format".
NO, WEAK, LIKELY, SURE = 0, 1, 2, 3
Recognise = Callable[[bytes], int]


@dataclass(frozen=True)
class Format:
    format: MediaFormat
    label: str  # for people: "Ogg Vorbis"
    kind: Kind
    mime: str
    extension: str  # the usual one, without the dot; the C2PA SDK's path API recognises formats by it
    recognise: Recognise
    #: Makes the row's store on first use: a store's module loads its libraries (pyexiv2, mutagen), which a
    #: call that never reads this format (``--version``, a JPEG's ``inspect``) does not pay for.
    make_store: Callable[[], MetadataStore]
    c2pa_embedded: bool  # the SDK embeds a manifest store; otherwise NAME.EXT.c2pa beside the file
    c2pa_prescan: Callable[[Path], bool] | None = None
    preview: Preview = Preview.NONE
    #: A second look for a format that shares its signature with another (DNG is a TIFF with a DNGVersion tag).
    refine: Callable[[Path], MediaFormat | None] | None = None
    c2pa_mime: str | None = None  # what the SDK is told, where it does not know the format's own MIME type
    manifest_place: ManifestPlace = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        mime = self.c2pa_mime or self.mime.split(";")[0]
        place = ManifestPlace(mime, self.extension, self.c2pa_embedded, self.c2pa_prescan)
        object.__setattr__(self, "manifest_place", place)

    @cached_property
    def store(self) -> MetadataStore:
        """The metadata store that reads and writes this format."""
        return self.make_store()

    @property
    def writes_sidecar(self) -> bool:
        """Whether the store writes a sidecar; told by the row's factory, so help texts make no store."""
        return getattr(self.make_store, "func", self.make_store) is _sidecar_store


# -- recognisers: each looks at the first HEAD_BYTES of a file -----------------------------------


def _magic(*signatures: bytes, offset: int = 0) -> Recognise:
    def recognise(head: bytes) -> int:
        return SURE if head.startswith(signatures, offset) else NO  # any of them (a tuple), at ``offset``

    return recognise


def _form(*kinds: bytes, magic: tuple[bytes, ...] = (b"RIFF",)) -> Recognise:
    """A RIFF (or, with ``magic=(b"FORM",)``, IFF) file whose form type is one of ``kinds``."""

    def recognise(head: bytes) -> int:
        return SURE if head[:4] in magic and head[8:12] in kinds else NO

    return recognise


def _ogg(*packet_starts: bytes) -> Recognise:
    def recognise(head: bytes) -> int:
        packet = first_packet(head)
        return SURE if packet is not None and packet.startswith(packet_starts) else NO

    return recognise


_AUDIO_MP4_BRANDS = (b"M4A ", b"M4B ", b"M4P ", b"F4A ")
#: Top-level box types that open a QuickTime file written without ``ftyp``.
_BARE_QUICKTIME = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def _ftyp(*brands: bytes, bare_quicktime: bool = False) -> Recognise:
    """A major brand in ``brands`` is sure; any ``ftyp`` is weak (an MP4 of some brand we do not list)."""

    def recognise(head: bytes) -> int:
        if head[4:8] == b"ftyp":
            if head[8:12] in brands:
                return SURE
            return WEAK if not brands else NO
        return LIKELY if bare_quicktime and head[4:8] in _BARE_QUICKTIME else NO

    return recognise


_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"}
_AVIF_BRANDS = {b"avif", b"avis"}
_HEIF_BRANDS = {b"mif1", b"msf1"}


def _ftyp_brands(head: bytes) -> tuple[bytes, set[bytes]]:
    """The major brand and the compatible brands of a leading ``ftyp`` box (as far as ``head`` holds them)."""
    size = int.from_bytes(head[:4], "big")
    compatible = head[16 : min(size, len(head))]
    return head[8:12], {compatible[i : i + 4] for i in range(0, len(compatible) - 3, 4)}


def _heif(family: set[bytes]) -> Recognise:
    """HEIF images: sure by the major brand; likely by a compatible brand under the generic ``mif1``/``msf1``."""

    def recognise(head: bytes) -> int:
        if head[4:8] != b"ftyp":
            return NO
        major, compatible = _ftyp_brands(head)
        if major in family:
            return SURE
        if major in _HEIF_BRANDS:  # a video MP4 may list mif1/msf1 among its brands: only the major one counts
            if family is _HEIF_BRANDS:
                return LIKELY if not compatible & (_HEIC_BRANDS | _AVIF_BRANDS) else WEAK
            return LIKELY if compatible & family else NO
        return NO

    return recognise


def _dng_if_tagged(path: Path) -> MediaFormat | None:
    """A TIFF whose first IFD has DNGVersion (50706) is a DNG; the IFD may lie anywhere in the file."""
    with open(path, "rb") as handle:
        tags = tiff_first_ifd_tags(handle, handle.read(8))
    return MediaFormat.DNG if tags is not None and _DNG_VERSION in tags else None


_DNG_VERSION = 50706


def _mp3(head: bytes) -> int:
    """An ID3 tag (not in front of FLAC) or an MPEG audio frame sync: the weakest of signatures."""
    if head[:3] == b"ID3":
        return WEAK
    return WEAK if mpeg_frame_length(head[:4]) is not None else NO


# -- the stores, made on first use ----------------------------------------------------------------


def _exiv2_store(carriers: tuple[Carrier, ...], tiff_data: bool = False) -> MetadataStore:
    from .carriers.exiv2store import Exiv2Store, tiff_data_digest

    return Exiv2Store(carriers, tiff_data_digest) if tiff_data else Exiv2Store(carriers)


def _sidecar_store(essence: str = "file") -> MetadataStore:
    """A sidecar store whose essence is the whole file, or (``media``, ``pixels``, ``jxl``) what it names."""
    from .carriers.sidecar import SidecarStore

    if essence == "media":
        from .carriers.bmff import media_box_digest

        return SidecarStore(media_box_digest)
    if essence == "pixels":
        from .carriers.exiv2store import pixel_digest

        return SidecarStore(pixel_digest)
    if essence == "jxl":
        from .carriers.bmff import jxl_essence

        return SidecarStore(jxl_essence)
    return SidecarStore()


def _bmff_store() -> MetadataStore:
    from .carriers.bmff import BmffStore

    return BmffStore()


def _riff_store(form: str) -> MetadataStore:
    from .carriers.riff import avi_store, wave_store

    return avi_store() if form == "avi" else wave_store()


def _vorbis_store(kind: str) -> MetadataStore:
    from .carriers.vorbis import VorbisCommentStore

    return VorbisCommentStore(kind)


def _id3_store(aiff: bool = False) -> MetadataStore:
    from .carriers.id3 import AiffId3Store, Id3Store

    return AiffId3Store() if aiff else Id3Store()


# -- the table -------------------------------------------------------------------------------------

_IIM_IMAGE = (Carrier.XMP, Carrier.IIM)
_XMP_IMAGE = (Carrier.XMP,)

FORMATS: tuple[Format, ...] = (
    Format(MediaFormat.JPEG, "JPEG", Kind.IMAGE, "image/jpeg", "jpg", _magic(b"\xff\xd8\xff"),
           partial(_exiv2_store, _IIM_IMAGE), True, prescan.jpeg_may_hold, Preview.PIXELS),
    Format(MediaFormat.PNG, "PNG", Kind.IMAGE, "image/png", "png", _magic(b"\x89PNG\r\n\x1a\n"),
           partial(_exiv2_store, _XMP_IMAGE), True, prescan.png_may_hold, Preview.PIXELS),
    Format(MediaFormat.TIFF, "TIFF", Kind.IMAGE, "image/tiff", "tif", _magic(b"II*\x00", b"MM\x00*"),
           partial(_exiv2_store, _IIM_IMAGE), True, prescan.tiff_may_hold, Preview.PIXELS, refine=_dng_if_tagged),
    Format(MediaFormat.WEBP, "WebP", Kind.IMAGE, "image/webp", "webp", _form(b"WEBP"),
           partial(_exiv2_store, _XMP_IMAGE), True, prescan.riff_may_hold, Preview.PIXELS),
    Format(MediaFormat.WAV, "WAV", Kind.AUDIO, "audio/wav", "wav", _form(b"WAVE", magic=(b"RIFF", b"RF64")),
           partial(_riff_store, "wave"), True, prescan.riff_may_hold),
    Format(MediaFormat.FLAC, "FLAC", Kind.AUDIO, "audio/flac", "flac", _magic(b"fLaC"),
           partial(_vorbis_store, "flac"), True, prescan.id3_may_hold),
    Format(MediaFormat.OGG_VORBIS, "Ogg Vorbis", Kind.AUDIO, "audio/ogg", "ogg", _ogg(b"\x01vorbis"),
           partial(_vorbis_store, "ogg-vorbis"), False),
    Format(MediaFormat.OPUS, "Opus", Kind.AUDIO, "audio/ogg; codecs=opus", "opus", _ogg(b"OpusHead"),
           partial(_vorbis_store, "opus"), False),
    Format(MediaFormat.M4A, "M4A", Kind.AUDIO, "audio/mp4", "m4a", _ftyp(*_AUDIO_MP4_BRANDS),
           _bmff_store, True, prescan.bmff_may_hold),
    Format(MediaFormat.MOV, "MOV", Kind.VIDEO, "video/quicktime", "mov", _ftyp(b"qt  ", bare_quicktime=True),
           _bmff_store, True, prescan.bmff_may_hold, Preview.FFMPEG),
    Format(MediaFormat.M4V, "M4V", Kind.VIDEO, "video/x-m4v", "m4v", _ftyp(b"M4V "),
           _bmff_store, True, prescan.bmff_may_hold, Preview.FFMPEG),
    Format(MediaFormat.MP4, "MP4", Kind.VIDEO, "video/mp4", "mp4", _ftyp(),
           _bmff_store, True, prescan.bmff_may_hold, Preview.FFMPEG),
    Format(MediaFormat.MATROSKA, "Matroska/WebM", Kind.VIDEO, "video/x-matroska", "mkv", _magic(b"\x1a\x45\xdf\xa3"),
           _sidecar_store, False, preview=Preview.FFMPEG),
    Format(MediaFormat.MXF, "MXF", Kind.VIDEO, "application/mxf", "mxf", _magic(b"\x06\x0e\x2b\x34"),
           _sidecar_store, False, preview=Preview.FFMPEG),
    Format(MediaFormat.EXR, "OpenEXR", Kind.IMAGE, "image/x-exr", "exr", _magic(b"\x76\x2f\x31\x01"),
           _sidecar_store, False, preview=Preview.FFMPEG),
    Format(MediaFormat.DPX, "DPX", Kind.IMAGE, "image/x-dpx", "dpx", _magic(b"SDPX", b"XPDS"),
           _sidecar_store, False, preview=Preview.FFMPEG),
    Format(MediaFormat.HEIC, "HEIC", Kind.IMAGE, "image/heic", "heic", _heif(_HEIC_BRANDS),
           partial(_sidecar_store, "media"), True, prescan.bmff_may_hold),
    Format(MediaFormat.AVIF, "AVIF", Kind.IMAGE, "image/avif", "avif", _heif(_AVIF_BRANDS),
           partial(_sidecar_store, "media"), True, prescan.bmff_may_hold, Preview.PIXELS),
    Format(MediaFormat.HEIF, "HEIF", Kind.IMAGE, "image/heif", "heif", _heif(_HEIF_BRANDS),
           partial(_sidecar_store, "media"), True, prescan.bmff_may_hold),
    Format(MediaFormat.GIF, "GIF", Kind.IMAGE, "image/gif", "gif", _magic(b"GIF87a", b"GIF89a"),
           partial(_sidecar_store, "pixels"), True, preview=Preview.PIXELS),
    Format(MediaFormat.JXL, "JPEG XL", Kind.IMAGE, "image/jxl", "jxl", _magic(b"\0\0\0\x0cJXL \r\n\x87\n"),
           partial(_sidecar_store, "jxl"), True, prescan.jumbf_box_may_hold, Preview.FFMPEG),
    # A bare codestream: the SDK signs only the container, so the manifest is a sidecar over the bytes.
    Format(MediaFormat.JXL_CODESTREAM, "JPEG XL codestream", Kind.IMAGE, "image/jxl", "jxl", _magic(b"\xff\x0a"),
           _sidecar_store, False, preview=Preview.FFMPEG, c2pa_mime="application/octet-stream"),
    # Never recognised by its header alone: TIFF's row refines to it (see _dng_if_tagged).
    Format(MediaFormat.DNG, "DNG", Kind.IMAGE, "image/x-adobe-dng", "dng", lambda _head: NO,
           partial(_exiv2_store, _IIM_IMAGE, tiff_data=True), True, prescan.tiff_may_hold, Preview.PIXELS),
    Format(MediaFormat.PSD, "PSD", Kind.IMAGE, "image/vnd.adobe.photoshop", "psd", _magic(b"8BPS\x00\x01"),
           partial(_exiv2_store, _IIM_IMAGE), False, preview=Preview.PIXELS),
    Format(MediaFormat.AVI, "AVI", Kind.VIDEO, "video/x-msvideo", "avi", _form(b"AVI "),
           partial(_riff_store, "avi"), True, prescan.riff_may_hold, Preview.FFMPEG),
    Format(MediaFormat.AIFF, "AIFF", Kind.AUDIO, "audio/aiff", "aif", _form(b"AIFF", b"AIFC", magic=(b"FORM",)),
           partial(_id3_store, aiff=True), False),
    Format(MediaFormat.OGG_FLAC, "Ogg FLAC", Kind.AUDIO, "audio/ogg; codecs=flac", "oga", _ogg(b"\x7fFLAC"),
           partial(_vorbis_store, "ogg-flac"), False),
    Format(MediaFormat.SPEEX, "Speex", Kind.AUDIO, "audio/ogg; codecs=speex", "spx", _ogg(b"Speex   "),
           partial(_vorbis_store, "speex"), False),
    Format(MediaFormat.MP3, "MP3", Kind.AUDIO, "audio/mpeg", "mp3", _mp3,
           _id3_store, True, prescan.id3_may_hold),
)  # fmt: skip

BY_NAME: dict[MediaFormat, Format] = {f.format: f for f in FORMATS}
_missing = set(MediaFormat) - set(BY_NAME)
assert not _missing, f"formats without a row: {_missing}"


def supported_text() -> str:
    """The formats for people, as help texts and refusals name them."""
    embedded = ", ".join(f.label for f in FORMATS if not f.writes_sidecar)
    sidecar = ", ".join(f.label for f in FORMATS if f.writes_sidecar)
    return f"{embedded} or (with a sidecar) {sidecar}"


SUPPORTED = supported_text()
HEAD_BYTES = 64

#: Extensions that name media besides each row's usual one: other names of the formats above, then common
#: formats aidisclose does not read (a delivery holding one must not pass as if it had been checked).
_OTHER_MEDIA_EXTENSIONS = frozenset({
    "jpeg", "jpe", "jfif", "tiff", "wave", "m4b", "m4p", "webm", "mka", "mk3d", "aiff", "aifc", "qt", "hif",
    "heics", "avifs", "ogv",
    "bmp", "dib", "ico", "svg", "tga", "pcx", "jp2", "j2k", "cr2", "cr3", "nef", "arw", "orf", "rw2", "raf", "pef",
    "srw", "mpg", "mpeg", "m2v", "m2ts", "mts", "ts", "vob", "wmv", "asf", "flv", "f4v", "3gp", "3g2", "rm", "rmvb",
    "aac", "ac3", "eac3", "dts", "wma", "alac", "ape", "au", "snd", "caf", "amr", "mid", "midi", "mp2", "mpa",
})  # fmt: skip
MEDIA_EXTENSIONS = frozenset(row.extension for row in FORMATS) | _OTHER_MEDIA_EXTENSIONS


def named_as_media(path: Path) -> bool:
    """Whether ``path``'s extension says it is an image, audio or video (``shot020.mp4``; not ``README``)."""
    return path.suffix.lower().lstrip(".") in MEDIA_EXTENSIONS


def sniff(head: bytes) -> Format | None:
    """The format whose signature ``head`` (the first bytes of a file) carries best, or None."""
    best, best_score = None, NO
    for row in FORMATS:
        score = row.recognise(head)
        if score > best_score:
            best, best_score = row, score
    return best


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
        skip = id3v2_size(head)
        if skip:  # an ID3 tag may front a FLAC stream as well as MPEG audio
            handle.seek(skip)
            if handle.read(4) == b"fLaC":
                return b"fLaC"
    return head


def _special_kind(mode: int) -> str:
    kinds = [(stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")]
    return next((name for test, name in kinds if test(mode)), "socket" if stat.S_ISSOCK(mode) else "special file")


def detect(path: Path) -> Format:
    """The format of ``path`` by content, or a DisclosureError saying why not."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise DisclosureError(path, "is a folder, not a file")
        if not stat.S_ISREG(mode):  # opening a FIFO would wait for a writer forever
            raise DisclosureError(path, f"is a {_special_kind(mode)}, not a regular file; it was not opened")
        head = _read_head(path)
    except FileNotFoundError:
        raise DisclosureError(path, "no such file") from None
    except PermissionError:
        raise DisclosureError(path, "permission denied", "check the file's read permission") from None
    except OSError as exc:
        raise DisclosureError(path, f"cannot open the file: {exc.strerror or exc}") from None
    if not head:
        raise DisclosureError(path, "is empty (0 bytes)")
    found = sniff(head)
    if found is None and named_as_media(path):  # damaged, or not what its name says: never skipped unseen
        raise DisclosureError(
            path,
            f"its name says media ({path.suffix}) but its content is not {SUPPORTED}",
            "a damaged file, or not what its name says: formats are told by content, not by the extension",
        )
    if found is None:
        raise UnsupportedFormat(path, f"content is not {SUPPORTED} (formats are told by content, not by the extension)")
    if found.refine is not None:
        try:
            refined = found.refine(path)
        except OSError:
            refined = None  # unreadable past the header: the store says why when it reads
        if refined is not None:
            return BY_NAME[refined]
    return found
