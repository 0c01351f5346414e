"""Signing a WAV with flat memory: aidisclose writes the file, the SDK only makes and signs the manifest.

c2pa-python's ``Builder.sign_file`` holds about twice a WAV in memory. The SDK's C library also has the
data-hash ("embeddable") workflow, which c2pa-python does not wrap; it is called here through
c2pa-python's own handles (its loaded library, Builder and Signer pointers):

1. ``c2pa_builder_data_hashed_placeholder`` gives the manifest, composed as a RIFF ``C2PA`` chunk,
   with room for the hash and the signature: the size the signed one will have;
2. the WAV is copied with that chunk last, where the SDK itself puts it (the RIFF size counts it), and
   the copy is hashed (SHA-256, a block at a time) as it is written, all but the chunk;
3. ``c2pa_builder_sign_data_hashed_embeddable`` signs a ``c2pa.hash.data`` assertion with that hash
   and the chunk as its one exclusion (the chunk's header included, as the SDK excludes it), and its
   bytes, the same size, are written over the placeholder.

Each byte is read and written once. The result is what ``sign_file`` makes of the same WAV: the
``C2PA`` chunk last, any earlier one removed (the caller keeps that manifest as the parent ingredient).
Only a plain RIFF WAVE takes this way: chunks that fill the file exactly, at most one ``C2PA`` chunk.
Anything else (RF64, data after the RIFF form, a size that does not add up) is left to ``sign_file``,
which checks it as it always has.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import struct
from functools import cache
from pathlib import Path
from typing import Any

from ...containers.riff import Chunk, chunk_bytes, read_form
from ...errors import DisclosureError
from .sdk import sdk

RAW = b"application/c2pa"  # what the SDK composes for: it has no RIFF composer, the chunk is made here
BLOCK = 1 << 20  # bytes copied and hashed at a time
_MAX_RIFF = 0xFFFFFFFF  # a RIFF header's size field
_PLACEHOLDER, _SIGN = "c2pa_builder_data_hashed_placeholder", "c2pa_builder_sign_data_hashed_embeddable"


def plain_chunks(source: Path) -> list[Chunk] | None:
    """The top-level chunks of ``source`` but its ``C2PA`` one, if it is a plain RIFF WAVE; else None."""
    try:
        form = read_form(source)
    except DisclosureError:
        return None
    size = source.stat().st_size
    if form.magic != b"RIFF" or form.kind != b"WAVE" or form.end != size:
        return None
    position = 12
    for chunk in form.chunks:
        if chunk.offset != position or chunk.end > size:
            return None
        position = chunk.end
    if position != size or sum(c.fourcc == b"C2PA" for c in form.chunks) > 1:
        return None
    return [c for c in form.chunks if c.fourcc != b"C2PA"]


def sign_wav(builder: Any, signer: Any, source: Path, target: Path) -> bytes | None:
    """Sign ``source`` into ``target`` (a new file) as above; the manifest store, or None if not plain.

    ``builder`` and ``signer`` are c2pa-python's, left open for the caller to close.
    """
    chunks = plain_chunks(source)
    if chunks is None or _functions() is None:
        return None
    placeholder = _chunk(_placeholder(builder, signer))
    body = sum(c.end - c.offset for c in chunks)
    riff_size = 4 + body + len(placeholder)
    if riff_size > _MAX_RIFF:
        raise DisclosureError(
            source, "is too large for a RIFF WAV once signed (over 4 GiB)", "split it into files under 4 GiB"
        )
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(target, "wb") as out:
        head = b"RIFF" + struct.pack("<I", riff_size) + b"WAVE"
        out.write(head)
        digest.update(head)
        buffer = bytearray(BLOCK)
        view = memoryview(buffer)
        for chunk in chunks:
            src.seek(chunk.offset)
            left = chunk.end - chunk.offset
            while left:
                got = src.readinto(view[: min(left, BLOCK)])
                if not got:
                    shorter = "changed while it was being signed (it is shorter now)"
                    raise DisclosureError(source, shorter, "stamp it again")
                digest.update(view[:got])
                out.write(view[:got])
                left -= got
        at = out.tell()
        out.write(placeholder)
        excluded = 8 + struct.unpack("<I", placeholder[4:8])[0]  # the header and the store, not a pad byte
        digest.update(placeholder[excluded:])
        data_hash = {
            "name": "jumbf manifest",
            "alg": "sha256",
            "hash": list(digest.digest()),  # bytes as a JSON array: a string would be taken as its own bytes
            "exclusions": [{"start": at, "length": excluded}],
            "pad": [],  # required by the JSON; the SDK pads the assertion to its placeholder size itself
        }
        store = _sign_embeddable(builder, signer, json.dumps(data_hash))
        signed = _chunk(store)
        if len(signed) != len(placeholder):
            raise sdk().C2paError(f"the signed manifest ({len(signed)} bytes) does not fit ({len(placeholder)})")
        out.seek(at)
        out.write(signed)
    return store


def _chunk(store: bytes) -> bytes:
    """A manifest store as the RIFF ``C2PA`` chunk the SDK writes (it composes none for RIFF itself)."""
    return chunk_bytes(b"C2PA", store)


@cache
def _functions() -> tuple[Any, Any] | None:
    """The two C functions, declared on c2pa-python's loaded library (its own declarations left alone).

    None if the library has them no more (c2pa-rs marks this workflow for replacement): ``sign_file`` then.
    """
    native = sdk().c2pa
    used = ("_lib", "C2paBuilder", "C2paSigner", "C2paStream", "_write_no_error_marker", "_check_ffi_operation_result")
    if not all(hasattr(native, name) for name in used):  # c2pa-python's own names, as 0.38.1 has them
        return None
    if not all(hasattr(native._lib, name) for name in (_PLACEHOLDER, _SIGN)):
        return None
    bytes_out = ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))
    builder, signer, stream = (ctypes.POINTER(t) for t in (native.C2paBuilder, native.C2paSigner, native.C2paStream))
    # int64_t c2pa_builder_data_hashed_placeholder(C2paBuilder*, uintptr_t reserved_size,
    #                                              const char* format, const unsigned char** manifest_bytes)
    placeholder = ctypes.CFUNCTYPE(ctypes.c_int64, builder, ctypes.c_size_t, ctypes.c_char_p, bytes_out)(
        (_PLACEHOLDER, native._lib)
    )
    # int64_t c2pa_builder_sign_data_hashed_embeddable(C2paBuilder*, C2paSigner*, const char* data_hash,
    #                                                  const char* format, C2paStream* asset (NULL: hash given),
    #                                                  const unsigned char** manifest_bytes)
    sign = ctypes.CFUNCTYPE(ctypes.c_int64, builder, signer, ctypes.c_char_p, ctypes.c_char_p, stream, bytes_out)(
        (_SIGN, native._lib)
    )
    return placeholder, sign


def _placeholder(builder: Any, signer: Any) -> bytes:
    functions = _functions()
    assert functions is not None
    placeholder, _ = functions
    reserve = signer.reserve_size()
    return _bytes_result(lambda out: placeholder(builder._handle, reserve, RAW, out), "making the placeholder")


def _sign_embeddable(builder: Any, signer: Any, data_hash: str) -> bytes:
    functions = _functions()
    assert functions is not None
    _, sign = functions
    return _bytes_result(
        lambda out: sign(builder._handle, signer._handle, data_hash.encode(), RAW, None, out), "signing"
    )


def _bytes_result(call: Any, what: str) -> bytes:
    """Run a C call that returns a length and hands out bytes the library allocated (freed here)."""
    native = sdk().c2pa
    out = ctypes.POINTER(ctypes.c_ubyte)()
    native._write_no_error_marker()
    length = call(ctypes.byref(out))
    try:
        native._check_ffi_operation_result(length, f"{what}: {{}}", check=lambda r: r < 0 or not out)
        return ctypes.string_at(out, length)
    finally:
        if out:
            native._lib.c2pa_free(out)
