"""Signing through the SDK: embedded in the file, or a manifest store for a ``NAME.EXT.c2pa`` sidecar."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...bounded import call_bounded, reading_seconds
from ...errors import DisclosureError
from .identity import SigningIdentity, redact_urls
from .manifest import PARENT_LABEL
from .place import ManifestPlace
from .sdk import sdk

_PARENT_STORE = "aidisclose-parent.c2pa"


@dataclass(frozen=True)
class ParentManifest:
    """A parent's manifest store kept in a NAME.EXT.c2pa sidecar, where the SDK cannot find it in the media.

    ``results`` are its validation results as the SDK gave them, read before the media was rewritten:
    an ingredient carries them (C2PA 2.2 §8.3, ingredient ``validationResults``).
    """

    store: bytes = field(repr=False)
    label: str
    results: dict[str, Any]


def read_parent_manifest(media: Path, place: ManifestPlace, sidecar: Path) -> ParentManifest | None:
    """The sidecar manifest store of ``media`` with its validation results; None if it has no active manifest.

    The SDK reads it in the bounded helper, as every read (see ``reading.read_manifest_with``).
    """
    store = sidecar.read_bytes()
    found = call_bounded(
        media,
        "reading the C2PA manifest",
        _parent_report,
        media,
        place.mime,
        store,
        prepare=sdk,
        extra_seconds=reading_seconds(media),
    )
    report = json.loads(found) if found else {}
    label, results = report.get("active_manifest"), report.get("validation_results")
    if not isinstance(label, str) or not isinstance(results, dict):
        return None
    return ParentManifest(store, label, results)


def _parent_report(media: Path, mime: str, store: bytes) -> bytes:
    try:
        with open(media, "rb") as stream, sdk().Reader(mime, stream, manifest_data=store) as reader:
            return str(reader.json()).encode()
    except sdk().C2paError:
        return b""


def sign(
    source: Path,
    target: Path,
    place: ManifestPlace,
    manifest: dict[str, Any],
    identity: SigningIdentity,
    parent: Path | None = None,
    subject: Path | None = None,
    parent_manifest: ParentManifest | None = None,
    patches: list[tuple[int, bytes]] | None = None,
) -> bytes:
    """Sign ``source``: embedded into ``target`` where ``place`` says the SDK embeds, else as a sidecar.

    For a sidecar the SDK still writes a copy of the media into ``target`` (to be thrown away); the
    manifest store is returned. ``parent`` (the original file) becomes the parentOf ingredient, with
    ``parent_manifest`` as its manifest when that is kept beside it; errors name ``subject``.

    With ``patches`` (embedded only), what is signed is ``source`` with those writes laid over it
    (``PatchedSource``): the stamped copy a store's ``copy_patches`` describe, never made on disk.

    The SDK signs in the bounded helper: it holds about half a gigabyte hashing a large MP4 or MOV
    (``sign_file`` holds about twice a WAV, which is why a plain WAV is written by ``riffsign``, in
    fixed memory), so a file too large for ``AIDISCLOSE_PARSE_MEGABYTES`` is refused in one line
    (nothing written) and a batch goes on. The files it may leave when it is killed are removed here.
    """
    try:
        return call_bounded(
            subject or source,
            "C2PA signing",
            _sign_here,
            source,
            target,
            place,
            manifest,
            identity,
            parent,
            subject,
            parent_manifest,
            patches,
            prepare=sdk,
            extra_seconds=reading_seconds(source, source, target, *([parent] if parent else [])),
        )
    finally:
        for left in _sign_file_paths(target, place.extension):
            left.unlink(missing_ok=True)


def _sign_here(
    source: Path,
    target: Path,
    place: ManifestPlace,
    manifest: dict[str, Any],
    identity: SigningIdentity,
    parent: Path | None,
    subject: Path | None,
    parent_manifest: ParentManifest | None,
    patches: list[tuple[int, bytes]] | None = None,
) -> bytes:
    """``sign`` itself, run in the bounded helper."""
    thumbnail = claim_thumbnail(source) if place.mime.startswith("image/") else None
    if thumbnail is not None:
        manifest = {**manifest, "thumbnail": {"format": "image/jpeg", "identifier": THUMBNAIL_ID}}
    try:
        # The SDK's own thumbnails are off: it scales small images up, keeps PNG or WebP at 1024 pixels,
        # and gives the parent ingredient a second copy of the same picture.
        # Nor does it verify what it wrote: every caller validates the file it keeps, once it is
        # on disk, by reading it back (``stamp``), which a verify here would only repeat.
        settings = {
            "builder": {"thumbnail": {"enabled": False}},
            "verify": {"verify_after_sign": False},
            "core": {
                "merkle_tree_chunk_size_in_kb": MERKLE_CHUNK_KB,
                "merkle_tree_max_proofs": MERKLE_MAX_PROOFS,
                "backing_store_memory_threshold_in_mb": SPOOL_MB,
            },
        }
        context = sdk().Context.from_dict(settings)
        with sdk().Builder.from_json(json.dumps(manifest), context=context) as builder:
            if thumbnail is not None:
                builder.add_resource(THUMBNAIL_ID, io.BytesIO(thumbnail))
            if parent is not None:
                ingredient: dict[str, Any] = {"title": parent.name, "relationship": "parentOf", "label": PARENT_LABEL}
                if parent_manifest is not None:
                    builder.add_resource(_PARENT_STORE, io.BytesIO(parent_manifest.store))
                    ingredient |= {
                        "manifest_data": {"format": "application/c2pa", "identifier": _PARENT_STORE},
                        "active_manifest": parent_manifest.label,
                        "validation_results": parent_manifest.results,
                    }
                with open(parent, "rb") as stream:
                    builder.add_ingredient(ingredient, place.mime, stream)
            if not place.embedded:
                builder.set_no_embed()
            signer = identity.signer()
            try:
                with _scratch_beside(target):
                    store = _sign_into(builder, signer, source, target, place, patches)
            finally:
                signer.close()
    except sdk().C2paError as exc:
        reason = " ".join(redact_urls(str(exc), identity.tsa_url).split())  # the SDK's message may hold the TSA URL
        raise DisclosureError(subject or source, f"C2PA signing failed: {reason}") from None
    except DisclosureError as err:  # ``source`` may be stamp's temporary copy: the user's file is ``subject``
        if subject is None or err.subject != str(source):
            raise
        raise err.about(subject) from None
    return store


def _sign_into(
    builder: Any, signer: Any, source: Path, target: Path, place: ManifestPlace, patches: list[tuple[int, bytes]] | None
) -> bytes:
    """The SDK's signing of ``source`` (with ``patches`` laid over it, if any) into ``target``; the manifest store."""
    if place.embedded and patches is not None:
        with PatchedSource(source, patches) as patched, open(target, "w+b", buffering=_BUFFER) as out:
            store: bytes = builder.sign(signer, place.mime, patched, out)
        return store
    if place.embedded:
        return _sign_embedded(builder, signer, source, target, place)
    with open(source, "rb") as src, open(target, "w+b") as dst:
        store = builder.sign(signer, place.mime, src, dst)
    return store


@contextmanager
def _scratch_beside(target: Path) -> Iterator[None]:
    """The SDK's scratch copy (a temporary file in ``TMPDIR``) on the signed file's own filesystem, for one call.

    That filesystem holds the signed file anyway; ``/tmp`` may be small, or memory (tmpfs), which a
    master's copy would fill. The SDK opens it unnamed (``O_TMPFILE``), so a killed helper leaves nothing.
    """
    before = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(target.parent)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = before


#: The buffer of the signed file the SDK writes through Python (it writes 8 KB at a time): 1 MiB a system call.
_BUFFER = 1 << 20


class PatchedSource(io.RawIOBase):
    """A file's bytes with ``patches`` ((offset, bytes) writes, later ones winning) laid over them, read-only.

    It reads as a byte copy of the file would after ``os.pwrite`` of each patch in order (a patch past
    the end extends it; a gap before one reads as zeros), without the copy being made: the SDK reads
    the stamped file's bytes through it, each straight from the original (``preadv`` into the SDK's
    buffer) with the few bytes of the patches copied over. A file that shrinks under it is an error.
    """

    def __init__(self, path: Path, patches: list[tuple[int, bytes]]) -> None:
        super().__init__()
        self._patches = [(offset, bytes(data)) for offset, data in patches if data]
        if any(offset < 0 for offset, _ in self._patches):
            raise ValueError("a patch at a negative offset")
        self._path = path
        self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self._on_disk = os.fstat(self._fd).st_size
        self._size = max([self._on_disk] + [offset + len(data) for offset, data in self._patches])
        self._position = 0

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._position, os.SEEK_END: self._size}.get(whence)
        if base is None:
            raise ValueError(f"invalid whence ({whence})")
        if base + offset < 0:
            raise OSError("seek before the start of the file")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: Any) -> int:
        with memoryview(buffer) as whole, whole.cast("B") as view:
            start = self._position
            count = max(0, min(len(view), self._size - start))
            end = start + count
            disk_end = min(end, self._on_disk)
            done = 0
            while start + done < disk_end:
                with view[done : disk_end - start] as part:
                    got = os.preadv(self._fd, [part], start + done)
                if not got:
                    raise OSError(f"{self._path} ended early: it shrank while it was read")
                done += got
            if done < count:  # past the original end: what the patches do not cover reads as zeros
                view[done:count] = bytes(count - done)
            for offset, data in self._patches:
                low, high = max(start, offset), min(end, offset + len(data))
                if low < high:
                    view[low - start : high - start] = data[low - offset : high - offset]
        self._position = end
        return count

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


#: An MP4/MOV's mdat is hashed as a Merkle tree of 4 MiB chunks (the ``merkle`` maps of a C2PA BMFF hash):
#: the SDK then signs and validates it a chunk at a time (about 35 MB resident for a file of any size)
#: instead of in 256 MB buffers (about 520 MB). The manifest keeps a 32-byte hash a chunk (about 8 KB
#: per GB of media). The setting concerns BMFF only.
MERKLE_CHUNK_KB = 4096
#: The manifest holds every chunk's hash (the tree's leaf row), so no Merkle proof boxes are written after the
#: mdat: the SDK's default (5) keeps five hashes in the manifest and adds a 244-byte ``uuid`` proof box a chunk,
#: which it writes by copying the whole signed file once more (about 1.5 s of a 600 MB MP4's signing).
MERKLE_MAX_PROOFS = 0
#: The SDK writes the file it signs into a scratch copy first, held in memory up to this size and in a
#: temporary file beyond it: by default 512 MB, so a 400 MB MP4 held about 460 MB while a 600 MB one
#: held 55 MB. At 16 MB, memory stays flat for every size; a file between the two is signed about a
#: sixth slower (its scratch copy goes through the page cache).
SPOOL_MB = 16

THUMBNAIL_ID = "aidisclose-thumbnail.jpg"
THUMBNAIL_EDGE = 1024  # the longest edge, as c2pa-rs makes them; smaller images keep their size


def claim_thumbnail(image: Path) -> bytes | None:
    """One JPEG claim thumbnail, never larger than the image; None where Pillow cannot decode it.

    A claim thumbnail (``c2pa.thumbnail.claim``) is optional in C2PA, so a picture
    Pillow cannot read is signed without one rather than refused.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(image) as opened:
            opened.draft("RGB", (THUMBNAIL_EDGE, THUMBNAIL_EDGE))  # JPEG: decode at a smaller scale
            picture = ImageOps.exif_transpose(opened)
            picture.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))  # only ever shrinks
            if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
                rgba = picture.convert("RGBA")
                picture = Image.new("RGB", rgba.size, "white")
                picture.paste(rgba, mask=rgba.getchannel("A"))
            out = io.BytesIO()
            picture.convert("RGB").save(out, "JPEG", quality=80)
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return out.getvalue()


def _sign_embedded(builder: Any, signer: Any, source: Path, target: Path, place: ManifestPlace) -> bytes:
    """A WAV is written here, with the SDK's data-hash workflow (flat memory, see ``riffsign``); others by the SDK."""
    if place.mime == "audio/wav":
        from .riffsign import sign_wav

        store = sign_wav(builder, signer, source, target)
        if store is not None:
            return store
    return _sign_file(builder, signer, source, target, place.extension)


def _sign_file(builder: Any, signer: Any, source: Path, target: Path, extension: str) -> bytes:
    """Sign through the SDK's path API (in c2pa-python 0.38.1 it opens both files and signs them as streams).

    It tells formats by extension while we tell them by content, so it is given correctly
    named paths: a link to the source and an output beside the target.
    """
    link, output = _sign_file_paths(target, extension)
    try:
        os.symlink(source.resolve(), link)
        store: bytes = builder.sign_file(str(link), str(output), signer)
        os.replace(output, target)
    finally:
        link.unlink(missing_ok=True)
        output.unlink(missing_ok=True)
    return store


def _sign_file_paths(target: Path, extension: str) -> tuple[Path, Path]:
    """The link to the source and the SDK's output that signing ``target`` makes beside it."""
    return target.with_name(f"{target.name}.source.{extension}"), target.with_name(f"{target.name}.signed.{extension}")
