"""Files in object storage (``s3://bucket/prefix``, or any fsspec URL): read by ranges, never downloaded whole.

A remote object is read in three ways, each counted:

- its *structure*: a walk of the container's boxes, chunks, segments, IFDs or pages by ranged reads
  (small blocks), which fetches every metadata structure whole and only the headers of the essence
  (``mdat``, ``IDAT``, a JPEG scan, RIFF ``data``, audio pages); a ``moov`` at the end of a video is a
  few ranged reads, not a download;
- its *digest* (SHA-256 of every byte), streamed block by block, unless ``--digest none``;
- a C2PA manifest's hash validation, streamed through the SDK, only when the structure says the
  object may hold a manifest store.

The structure is laid into a *sparse mirror*: a local file of the object's size whose holes (the
essence, never fetched) read as zeros and take no disk. The same readers that read local files then
read the mirror, so a file in a bucket gives the same report as the same file on disk; what each
reader sees of the essence is only its headers. Sidecars (``NAME.EXT.xmp``, ``NAME.EXT.c2pa``) are
fetched whole beside it.

fsspec and s3fs are imported only when a URL is given (``pip install 'aidisclose[cloud]'``).
The endpoint and credentials come from the usual AWS variables (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT_URL``) or ``--s3-endpoint``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .batch import HIDDEN, SIDECAR_SUFFIXES, Item, Outcome, WalkOptions, _matches
from .bounded import limits
from .containers.id3 import id3v2_size
from .engine import is_url as is_url
from .errors import DisclosureError

BLOCK = 16 << 10  # a structure read fetches whole blocks of this size: headers close together cost one request
FIRST_READ = 64 << 10  # the first request: a small object whole, and most containers' leading structures
STREAM_BLOCK = 4 << 20  # the digest and the C2PA SDK read the whole object in blocks of this size
SIDECAR_LIMIT = 64 << 20  # a sidecar is metadata: anything larger is refused, not fetched
_MAX_STRUCTURES = 100_000  # boxes, chunks, segments, pages, IFD entries walked in one object


class RemoteError(DisclosureError):
    """A remote location that cannot be listed or read."""


@dataclass(frozen=True)
class Storage:
    """How to reach the storage: the endpoint (``--s3-endpoint`` or ``AWS_ENDPOINT_URL``) and the digest choice."""

    endpoint: str | None = None
    digest: bool = True

    def options(self, url: str) -> dict[str, Any]:
        if not url.startswith(("s3://", "s3a://")):
            return {}
        endpoint = self.endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        options: dict[str, Any] = {"default_block_size": BLOCK, "default_fill_cache": False}
        if endpoint:
            options["client_kwargs"] = {"endpoint_url": endpoint}
        return options


_FILESYSTEMS: dict[tuple[str, Storage, int], Any] = {}


def filesystem(url: str, storage: Storage) -> tuple[Any, str]:
    """The fsspec filesystem for ``url`` (one per process and protocol) and the object's path within it."""
    try:
        import fsspec.core
    except ImportError:
        raise DisclosureError(
            url, "reading from object storage needs fsspec and s3fs", "pip install 'aidisclose[cloud]'"
        ) from None
    protocol = url.split("://", 1)[0]
    key = (protocol, storage, os.getpid())  # a forked worker makes its own: an S3 client is not fork-safe
    try:
        if key not in _FILESYSTEMS:
            options = {**storage.options(url), "skip_instance_cache": True}
            _FILESYSTEMS[key] = fsspec.core.url_to_fs(url, **options)[0]
        fs = _FILESYSTEMS[key]
        return fs, fs._strip_protocol(url)
    except (ImportError, ValueError) as exc:
        raise DisclosureError(url, f"cannot reach this storage: {exc}", "pip install 'aidisclose[cloud]'") from None


def _url(fs: Any, path: str) -> str:
    return str(fs.unstrip_protocol(path))


# -- listing: the same order, hidden entries and sidecars as walking a local folder ----------------------------


@dataclass(frozen=True)
class RemoteItem:
    """One object to work on: its URL, size, the sidecar objects beside it, and why it is skipped if it is."""

    url: str
    size: int = 0
    root: str | None = None
    skip: str | None = None
    error: str | None = None
    sidecars: tuple[str, ...] = ()

    @property
    def named(self) -> bool:
        return self.root is None


def remote_size(item: RemoteItem) -> int:
    return item.size


def list_remote(urls: Iterable[str], storage: Storage, options: WalkOptions | None = None) -> Iterator[RemoteItem]:
    """Every object under ``urls``, in the order ``batch.walk`` gives the same tree on disk.

    A folder's files come first, sorted by name, then its subfolders, depth first; names starting with
    a dot are listed as skipped (hidden); a sidecar beside its media object is read with it, not listed.
    """
    options = options or WalkOptions()
    for url in urls:
        try:
            fs, path = filesystem(url, storage)
            path = path.rstrip("/")
            listing = fs.find(path, detail=True, withdirs=False)
            if not listing and fs.isfile(path):  # not a prefix: a single object
                listing = {path: fs.info(path)}
        except DisclosureError as err:
            yield RemoteItem(url, error=err.reason)
            continue
        except (OSError, ValueError) as exc:
            yield RemoteItem(url, error=f"cannot list: {exc}")
            continue
        if not listing:
            yield RemoteItem(url)  # the worker reports that there is no such object
            continue
        if list(listing) == [path]:
            yield RemoteItem(_url(fs, path), size=int(listing[path].get("size") or 0),
                             sidecars=_sidecars_of(path, {}, fs))  # fmt: skip
            continue
        yield from _walk_tree(fs, path, listing, options)


def _sidecars_of(key: str, present: dict[str, Any], fs: Any) -> tuple[str, ...]:
    found = []
    for suffix in SIDECAR_SUFFIXES:
        other = key + suffix
        if (other in present) if present else fs.isfile(other):
            found.append(_url(fs, other))
    return tuple(found)


def _walk_tree(fs: Any, root: str, listing: dict[str, Any], options: WalkOptions) -> Iterator[RemoteItem]:
    tree: dict[str, Any] = {}
    for key in listing:
        relative = key[len(root) :].lstrip("/")
        if not relative:
            continue
        node = tree
        *parents, name = relative.split("/")
        for folder in parents:
            child = node.setdefault(folder, {})
            if not isinstance(child, dict):  # an object and a "folder" of the same name: the object wins
                break
            node = child
        else:
            node.setdefault(name, key)
    root_url = _url(fs, root)
    stack: list[tuple[str, dict[str, Any]]] = [("", tree)]
    while stack:
        prefix, node = stack.pop()
        folders: list[tuple[str, dict[str, Any]]] = []
        for name in sorted(node):
            relative = f"{prefix}{name}"
            entry = node[name]
            url = f"{root_url}/{relative}"
            if name.startswith("."):
                if not (options.exclude and _matches(relative, options.exclude)):
                    yield RemoteItem(url, root=root_url, skip=HIDDEN)
                continue
            if isinstance(entry, dict):
                folders.append((relative + "/", entry))
                continue
            if options.include and not _matches(relative, options.include):
                continue
            if options.exclude and _matches(relative, options.exclude):
                continue
            base, dot, suffix = name.rpartition(".")
            if dot and f".{suffix}" in SIDECAR_SUFFIXES and isinstance(node.get(base), str):
                continue  # a sidecar, read with its media object
            yield RemoteItem(url, size=int(listing[entry].get("size") or 0), root=root_url,
                             sidecars=_sidecars_of(entry, listing, fs))  # fmt: skip
        stack.extend(reversed(folders))


# -- counted reads -------------------------------------------------------------------------------------------


@dataclass
class Traffic:
    """Bytes fetched from storage in this process, by purpose."""

    structure: int = 0
    digest: int = 0
    manifest: int = 0
    requests: int = 0

    @property
    def total(self) -> int:
        return self.structure + self.digest + self.manifest


TRAFFIC = Traffic()


class Ranges:
    """The bytes of one object read so far, fetched by ranges in whole blocks, each block once."""

    def __init__(self, fs: Any, path: str, size: int, budget: int) -> None:
        self.fs, self.path, self.size, self.budget = fs, path, size, budget
        self.blocks: dict[int, bytes] = {}

    def read(self, offset: int, length: int) -> bytes:
        """``length`` bytes at ``offset`` (fewer at the end of the object)."""
        if offset < 0 or length <= 0 or offset >= self.size:
            return b""
        end = min(self.size, offset + length)
        first, last = offset // BLOCK, (end - 1) // BLOCK
        missing = [b for b in range(first, last + 1) if b not in self.blocks]
        for start, stop in _runs(missing):
            self._fetch(start, stop)
        data = b"".join(self.blocks[b] for b in range(first, last + 1))
        return data[offset - first * BLOCK : end - first * BLOCK]

    def _fetch(self, first: int, last: int) -> None:
        start, stop = first * BLOCK, min(self.size, (last + 1) * BLOCK)
        fetched = sum(len(b) for b in self.blocks.values())
        if fetched + stop - start > self.budget:
            raise DisclosureError(
                _url(self.fs, self.path),
                f"its metadata structures need more than {self.budget >> 20} MiB; not read",
                "raise AIDISCLOSE_PARSE_MEGABYTES if the file is sound",
            )
        data = bytes(self.fs.cat_file(self.path, start=start, end=stop))
        TRAFFIC.structure += len(data)
        TRAFFIC.requests += 1
        if len(data) != stop - start:
            raise DisclosureError(_url(self.fs, self.path), "changed or ended early while it was read")
        for index in range(first, last + 1):
            self.blocks[index] = data[(index - first) * BLOCK : (index - first + 1) * BLOCK]

    @property
    def complete(self) -> bool:
        """Whether every byte of the object has been fetched."""
        return len(self.blocks) * BLOCK >= self.size and all(
            index in self.blocks for index in range(-(-self.size // BLOCK))
        )

    def lay_into(self, target: Path) -> None:
        """Write what was read into ``target`` at its offsets, the rest a hole of the object's size."""
        with open(target, "wb") as out:
            out.truncate(self.size)
            for index in sorted(self.blocks):
                out.seek(index * BLOCK)
                out.write(self.blocks[index])


def _runs(indices: list[int]) -> Iterator[tuple[int, int]]:
    start = prev = None
    for index in indices:
        if start is None:
            start = prev = index
        elif index == prev + 1:  # type: ignore[operator]
            prev = index
        else:
            yield start, prev  # type: ignore[misc]
            start = prev = index
    if start is not None:
        yield start, prev  # type: ignore[misc]


class CountedStream:
    """A read-only file object over an fsspec file, counting what it reads (for the SDK and the digest)."""

    def __init__(self, handle: Any, purpose: str) -> None:
        self.handle, self.purpose = handle, purpose

    def read(self, size: int = -1) -> bytes:
        data = bytes(self.handle.read(size))
        setattr(TRAFFIC, self.purpose, getattr(TRAFFIC, self.purpose) + len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self.handle.seek(offset, whence))

    def tell(self) -> int:
        return int(self.handle.tell())

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def write(self, data: bytes) -> int:
        raise OSError("a remote object is read, never written")

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.handle.close()


# -- structure walks: what each container's readers look at --------------------------------------------------

def _u16be(data: bytes) -> int:
    return int.from_bytes(data[:2], "big")


def _u32be(data: bytes) -> int:
    return int.from_bytes(data[:4], "big")


def _u64be(data: bytes) -> int:
    return int.from_bytes(data[:8], "big")


def _le(data: bytes) -> int:
    return int.from_bytes(data, "little")


def _u32le(data: bytes) -> int:
    return int.from_bytes(data[:4], "little")


_ESSENCE_BOXES = {b"mdat", b"free", b"skip", b"wide", b"jxlc", b"jxlp"}


def _walk_bmff(r: Ranges, start: int = 0) -> None:
    offset = start
    for _ in range(_MAX_STRUCTURES):
        header = r.read(offset, 16)
        if len(header) < 8:
            return
        size, kind, head = _u32be(header), header[4:8], 8
        if size == 1:
            if len(header) < 16:
                return
            size, head = _u64be(header[8:16]), 16
        elif size == 0:
            size = r.size - offset
        if size < head:
            return
        if kind not in _ESSENCE_BOXES:
            r.read(offset, size)
        offset += size


def _walk_jpeg(r: Ranges) -> None:
    offset = 2
    for _ in range(_MAX_STRUCTURES):
        marker = r.read(offset, 4)
        if len(marker) < 2 or marker[0] != 0xFF:
            break
        code = marker[1]
        if code == 0xFF:
            offset += 1
            continue
        if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:
            offset += 2
            continue
        if code == 0xD9 or len(marker) < 4:
            break
        length = _u16be(marker[2:4])
        r.read(offset, 2 + length)
        if code == 0xDA:  # the scan: what follows is entropy-coded pixels
            break
        offset += 2 + length
    r.read(r.size - 2, 2)


def _walk_png(r: Ranges) -> None:
    offset = 8
    for _ in range(_MAX_STRUCTURES):
        header = r.read(offset, 8)
        if len(header) < 8:
            return
        length, kind = _u32be(header), header[4:8]
        if kind != b"IDAT":
            r.read(offset, 12 + length)
        if kind == b"IEND":
            return
        offset += 12 + length


_TIFF_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8}
_TIFF_POINTERS = {330, 34665, 34853, 40965}  # SubIFDs, Exif, GPS, Interoperability


def _walk_tiff(r: Ranges) -> None:
    head = r.read(0, 8)
    little = head[:2] == b"II"

    def number(data: bytes) -> int:
        return int.from_bytes(data, "little" if little else "big")

    if number(head[2:4]) != 42:
        return  # BigTIFF and the like: the readers say what they make of the header
    queue, seen = [number(head[4:8])], set[int]()
    while queue and len(seen) < 1024:
        ifd = queue.pop(0)
        if ifd in seen or not 8 <= ifd < r.size:
            continue
        seen.add(ifd)
        count = number(r.read(ifd, 2))
        entries = r.read(ifd + 2, 12 * count + 4)
        for index in range(min(count, len(entries) // 12)):
            entry = entries[index * 12 : index * 12 + 12]
            tag, kind, items = number(entry[:2]), number(entry[2:4]), number(entry[4:8])
            size = items * _TIFF_SIZES.get(kind, 1)
            value = entry[8:12] if size <= 4 else r.read(number(entry[8:12]), size)
            if tag in _TIFF_POINTERS and kind in (4, 13):
                queue.extend(number(value[i : i + 4]) for i in range(0, min(len(value), 4 * 256), 4))
        if len(entries) >= 12 * count + 4:
            queue.append(number(entries[12 * count : 12 * count + 4]))


_RIFF_ESSENCE = {b"data", b"idx1", b"VP8 ", b"VP8L", b"ALPH", b"ANMF", b"SSND"}


def _walk_riff(r: Ranges, big_endian: bool = False) -> None:
    size_of = _u32be if big_endian else _u32le
    offset, data_size = 12, None
    for _ in range(_MAX_STRUCTURES):
        header = r.read(offset, 12)
        if len(header) < 8:
            return
        kind, size = header[:4], size_of(header[4:8])
        if kind == b"ds64" and not big_endian:
            body = r.read(offset + 8, min(size, 28))
            data_size = _le(body[8:16]) if len(body) >= 16 else None
        if kind == b"data" and size == 0xFFFFFFFF and data_size is not None:
            size = data_size
        if kind in _RIFF_ESSENCE or (kind == b"LIST" and header[8:12] == b"movi"):
            r.read(offset, 8 + min(size, 32))  # the essence's own header (a WebP frame's size, say)
        else:
            r.read(offset, 8 + size)
        offset += 8 + size + (size & 1)


def _walk_flac(r: Ranges, start: int) -> None:
    offset = start + 4
    for _ in range(_MAX_STRUCTURES):
        header = r.read(offset, 4)
        if len(header) < 4:
            return
        length = _u32be(b"\0" + header[1:4])
        r.read(offset, 4 + length)
        offset += 4 + length
        if header[0] & 0x80:
            r.read(offset, 16)  # the first frame's header
            return


def _walk_ogg(r: Ranges) -> None:
    offset = 0
    for _ in range(_MAX_STRUCTURES):
        header = r.read(offset, 27)
        if len(header) < 27 or header[:4] != b"OggS":
            return
        segments = r.read(offset + 27, header[26])
        length = 27 + header[26] + sum(segments)
        r.read(offset, length)
        offset += length
        if _le(header[6:14]) not in (0, 0xFFFFFFFFFFFFFFFF):  # a page of audio: the headers are done
            return


def _walk_psd(r: Ranges) -> None:
    offset = 26
    for _ in range(2):  # colour mode data, then image resources (IPTC, XMP)
        length = _u32be(r.read(offset, 4))
        r.read(offset, 4 + length)
        offset += 4 + length
    r.read(offset, 8)


def _tail(r: Ranges, length: int) -> None:
    r.read(max(0, r.size - length), length)


def _walk_head(r: Ranges) -> None:
    r.read(0, 256 << 10)


def read_structure(r: Ranges) -> None:
    """Fetch what the readers of the object's format look at, chosen by its first bytes."""
    head = r.read(0, FIRST_READ)[:64]  # one request holds a small object whole, and most headers
    skip = id3v2_size(head)
    if skip:
        r.read(0, skip + 16)
        if r.read(skip, 4) == b"fLaC":
            _walk_flac(r, skip)
        else:
            r.read(skip, 64 << 10)  # MPEG audio: the first frames (Xing/VBR header)
        _tail(r, 64 << 10)  # ID3v1, APEv2, Lyrics at the end
        return
    if head[:4] == b"fLaC":
        _walk_flac(r, 0)
    elif head[:3] == b"\xff\xd8\xff":
        _walk_jpeg(r)
    elif head[:8] == b"\x89PNG\r\n\x1a\n":
        _walk_png(r)
    elif head[:4] in (b"II*\x00", b"MM\x00*"):
        _walk_tiff(r)
    elif head[:4] in (b"RIFF", b"RF64"):
        _walk_riff(r)
    elif head[:4] == b"FORM":
        _walk_riff(r, big_endian=True)
    elif head[:4] == b"OggS":
        _walk_ogg(r)
        _tail(r, 64 << 10)  # the last page: the stream's length
    elif head[:6] == b"8BPS\x00\x01":
        _walk_psd(r)
    elif head[4:8] == b"ftyp" or head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot") or head[
        :12
    ] == b"\0\0\0\x0cJXL \r\n\x87\n":
        _walk_bmff(r)
    elif head[:4] == b"\xff\xfb" or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2", b"\xff\xfa"):
        r.read(0, 64 << 10)
        _tail(r, 64 << 10)
    else:  # Matroska, MXF, EXR, DPX, GIF, a bare JPEG XL codestream, or not media: head and tail
        _walk_head(r)
        _tail(r, 256 << 10)


# -- one object, read as a local file ------------------------------------------------------------------------


@dataclass
class Mirror:
    """A remote object laid out locally for the readers: ``path`` is the sparse mirror, ``folder`` its folder."""

    url: str
    path: Path
    folder: Path
    fs: Any = field(repr=False)
    key: str = ""
    storage: Storage = field(default_factory=Storage)
    #: Every byte of the object was fetched for its structure (a small object): the mirror is the object.
    complete: bool = False

    def sha256(self, _path: Path) -> str | None:
        """The object's SHA-256, streamed from storage (None with ``--digest none``)."""
        if not self.storage.digest:
            return None
        if self.complete:
            from .carriers.base import file_sha256

            return file_sha256(self.path)
        digest = hashlib.sha256()
        with self.fs.open(self.key, "rb", block_size=STREAM_BLOCK, cache_type="readahead") as handle:
            stream = CountedStream(handle, "digest")
            for block in iter(lambda: stream.read(STREAM_BLOCK), b""):
                digest.update(block)
        return digest.hexdigest()

    @contextlib.contextmanager
    def stream(self) -> Iterator[IO[bytes]]:
        """The object itself as a file, for the C2PA SDK's hash validation (read as it goes, counted).

        The SDK reads the asset more than once (the store, then the hashed ranges): the last few blocks are
        kept (at most 16 MiB), so a small object is fetched once and a large one about once per pass.
        """
        if self.complete:
            with open(self.path, "rb") as whole:
                yield whole
            return
        cache = {"cache_type": "blockcache", "cache_options": {"maxblocks": 4}}
        with self.fs.open(self.key, "rb", block_size=STREAM_BLOCK, **cache) as handle:
            yield CountedStream(handle, "manifest")  # type: ignore[misc]

    def public(self, text: str) -> str:
        """``text`` with the mirror's local folder named as the object's remote folder."""
        return text.replace(str(self.folder), self.url.rsplit("/", 1)[0])


@contextlib.contextmanager
def mirrored(item: RemoteItem, storage: Storage) -> Iterator[Mirror]:
    """``item`` as a sparse local mirror, with its sidecars, for as long as the block runs."""
    fs, key = filesystem(item.url, storage)
    folder = Path(tempfile.mkdtemp(prefix="aidisclose-remote-"))
    try:
        name = key.rsplit("/", 1)[-1]
        if name in ("", ".", ".."):  # a key that names no file: its mirror gets a name of its own
            name = "object"
        mirror = Mirror(item.url, folder / name, folder, fs, key, storage)
        try:
            size = int(fs.info(key).get("size") or 0) if not item.size else item.size
        except FileNotFoundError:
            raise DisclosureError(item.url, "no such object") from None
        except OSError as exc:
            raise DisclosureError(item.url, f"cannot read the object: {exc}") from None
        ranges = Ranges(fs, key, size, limits()[1])
        if size:
            read_structure(ranges)
        ranges.lay_into(mirror.path)
        mirror.complete = ranges.complete
        for sidecar in item.sidecars:
            _fetch_sidecar(fs, sidecar, folder / sidecar.rsplit("/", 1)[-1])
        yield mirror
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _fetch_sidecar(fs: Any, url: str, target: Path) -> None:
    key = fs._strip_protocol(url)
    if int(fs.info(key).get("size") or 0) > SIDECAR_LIMIT:
        raise DisclosureError(url, f"this sidecar is larger than {SIDECAR_LIMIT >> 20} MiB; not read")
    data = bytes(fs.cat_file(key))
    TRAFFIC.structure += len(data)
    TRAFFIC.requests += 1
    target.write_bytes(data)


def _public_json(text: str, mirror: Mirror) -> str:
    folder, remote = json.dumps(str(mirror.folder))[1:-1], json.dumps(mirror.url.rsplit("/", 1)[0])[1:-1]
    return text.replace(folder, remote)


def inspect_remote(item: RemoteItem, storage: Storage, **options: Any) -> tuple[Outcome[Any], int]:
    """``inspect_item`` for an object: its outcome, with URLs for paths, and the bytes fetched."""
    from .inspect import InspectResult, inspect_item

    before = TRAFFIC.total
    early = _early(item)
    if early is not None:
        return early, 0
    try:
        with mirrored(item, storage) as mirror:
            local = Item(mirror.path, None if item.named else mirror.folder)
            outcome = inspect_item(local, sha256_of=mirror.sha256, manifest_stream=mirror.stream, **options)
            result = outcome.result
            if result is not None:
                result = InspectResult.model_validate_json(_public_json(result.model_dump_json(), mirror))
            done: Outcome[Any] = Outcome(
                item.url,
                result,
                mirror.public(outcome.error) if outcome.error else None,
                mirror.public(outcome.skipped) if outcome.skipped else None,
            )
    except DisclosureError as err:
        done = Outcome(item.url, error=err.one_line())
    except Exception as exc:  # storage that fails in a way of its own: a row, never the end of the batch
        done = Outcome(item.url, error=f"{item.url}: cannot read the object: {type(exc).__name__}: {exc}")
    return done, TRAFFIC.total - before


def _early(item: RemoteItem) -> Outcome[Any] | None:
    if item.error:
        return Outcome(item.url, error=DisclosureError(item.url, item.error).one_line())
    if item.skip:
        return Outcome(item.url, skipped=f"{item.url}: {item.skip}")
    return None


def check_remote(item: RemoteItem, storage: Storage, **options: Any) -> tuple[Any, int]:
    """``check``'s work for an object: its FileCheck (a row whatever happens), and the bytes fetched."""
    from .check import FileCheck, Verdict, _check_item

    before = TRAFFIC.total
    if item.error:
        line = DisclosureError(item.url, item.error).one_line()
        return FileCheck(path=item.url, verdict=Verdict.error, reason=line), 0
    if item.skip:
        return FileCheck(path=item.url, verdict=Verdict.skipped, reason=f"{item.url}: {item.skip}"), 0
    try:
        with mirrored(item, storage) as mirror:
            local = Item(mirror.path, None if item.named else mirror.folder)
            checked = _check_item(local, sha256_of=mirror.sha256, manifest_stream=mirror.stream, **options)
            text = _public_json(checked.model_dump_json(), mirror)
            file = FileCheck.model_validate_json(text)
    except DisclosureError as err:
        file = FileCheck(path=item.url, verdict=Verdict.error, reason=err.one_line())
    except Exception as exc:  # storage that fails in a way of its own: a row, never the end of the batch
        reason = f"{item.url}: cannot read the object: {type(exc).__name__}: {exc}"
        file = FileCheck(path=item.url, verdict=Verdict.error, reason=reason)
    return file, TRAFFIC.total - before
