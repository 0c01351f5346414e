"""The C2PA trust model as a verifier holds it (C2PA 2.2 §14.4, trust lists), and which anchor vouched.

A signer is trusted when its chain ends at a trust anchor, or its own certificate is on the allowed
list, and its certificate carries an extended key usage the trust configuration accepts (§14.5.1;
``c2pa-kp-claimSigning`` is 1.3.6.1.4.1.62558.2.1). Time-stamp authorities chain to anchors of
their own (§10.3.2.5, time-stamps), and CAWG X.509 identity assertions to the CAWG trust list.

The SDK checks all of it but says only *that* a signer is trusted; ``trusted_by`` says *which*
anchor (or allowed-list entry) vouched, by reading the signer's certificate chain from the
manifest's COSE signature (§14.2, ``x5chain``) and checking each anchor's signature on it.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import DisclosureError
from ...inputs import read_input, read_input_text

#: C2PA 2.2 §14.5.1: the claim-signing extended key usage.
CLAIM_SIGNING_EKU = "1.3.6.1.4.1.62558.2.1"
_X5CHAIN = 33  # COSE header label (RFC 9360)
_MAX_DEPTH = 16


@dataclass(frozen=True)
class TrustSettings:
    """What a verifier trusts: each part as the user gave it (PEM, or text for ``config``).

    ``anchors``: roots a claim signer may chain to. ``allowed``: end-entity certificates (PEM) or
    base64 SHA-256 hashes of them, trusted as they are. ``config``: the extended key usages a signer
    may carry, one OID a line. ``tsa_anchors``: roots of time-stamp authorities. ``cawg_anchors``:
    roots for CAWG X.509 identity assertions. ``ocsp_fetch``: ask each signer's OCSP responder
    for its revocation state (off: only an OCSP response stapled in the manifest is read).
    """

    anchors: bytes | None = field(default=None, repr=False)
    allowed: bytes | None = field(default=None, repr=False)
    config: bytes | None = field(default=None, repr=False)
    tsa_anchors: bytes | None = field(default=None, repr=False)
    cawg_anchors: bytes | None = field(default=None, repr=False)
    ocsp_fetch: bool = False

    @property
    def given(self) -> bool:
        """A signer can be reported trusted: anchors or an allowed list were given (never without)."""
        return bool(self.anchors or self.allowed)

    def sdk_settings(self) -> dict[str, Any]:
        """The SDK's ``trust``, ``cawg_trust`` and ``verify`` settings (c2pa-rs ``Settings``).

        The SDK keeps claim-signer and time-stamp anchors in one store and tells them apart by the
        extended key usage it asks of each (time-stamping for a TSA); ``trusted_by`` says which
        anchor vouched, so a claim signer vouched for only by a TSA anchor is not reported trusted.
        """
        verify: dict[str, Any] = {"ocsp_fetch": self.ocsp_fetch}
        trust: dict[str, str] = {}
        anchors = b"\n".join(p for p in (self.anchors, self.tsa_anchors) if p)
        if anchors:
            trust["trust_anchors"] = _text(anchors)
        if self.allowed:
            trust["allowed_list"] = _text(self.allowed)
        if self.config:
            trust["trust_config"] = _text(self.config)
        settings: dict[str, Any] = {"verify": verify}
        if trust:
            verify["verify_trust"] = True
            settings["trust"] = trust
        if self.cawg_anchors:
            settings["cawg_trust"] = {"verify_trust_list": True, "trust_anchors": _text(self.cawg_anchors)}
        return settings


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


@dataclass(frozen=True)
class Vouchers:
    """Which anchor vouched for a manifest's signer and for its time-stamp authority, as ``subject`` lines."""

    signer: str | None = None
    timestamp: str | None = None
    tsa_only: bool = False  # the signer chains to nothing but a time-stamp anchor: not a claim signer to trust


def vouchers(store: bytes, label: str, trust: TrustSettings) -> Vouchers:
    """Who vouched for the signer (and TSA) of manifest ``label`` in the manifest store ``store``.

    ``"anchor CN=…"`` or ``"allowed list: CN=…"``; None where no anchor of ``trust`` issued the
    chain (or the signature cannot be read: that is the SDK's to report).
    """
    try:
        signature = _signature_box(store, label)
        if signature is None:
            return Vouchers()
        headers = _cose_headers(signature)
        chain = _certificates(headers.get(_X5CHAIN, headers.get("x5chain")))  # a v1 claim names it
        tsa_chain = [cert for token in _tst_tokens(headers) for cert in _token_certificates(token)]
    except (ValueError, IndexError, struct.error):
        return Vouchers()
    signer = _allowed(chain, trust.allowed) or _anchor(chain, trust.anchors)
    timestamp = _anchor(tsa_chain, b"\n".join(p for p in (trust.tsa_anchors, trust.anchors) if p))
    return Vouchers(signer, timestamp, signer is None and _anchor(chain, trust.tsa_anchors) is not None)


def _allowed(chain: list[Any], allowed: bytes | None) -> str | None:
    if not chain or not allowed:
        return None
    from cryptography.hazmat.primitives.serialization import Encoding

    leaf = chain[0]
    der = leaf.public_bytes(Encoding.DER)
    digests = {base64.b64encode(hashlib.sha256(der).digest()).decode()}
    listed = {line.strip() for line in _text(allowed).splitlines()}
    if digests & listed or any(cert == leaf for cert in _pem_certificates(allowed)):
        return f"allowed list: {_name(leaf)}"
    return None


def _anchor(chain: list[Any], anchors: bytes | None) -> str | None:
    """The first anchor that is in ``chain`` or signed one of its certificates."""
    if not chain or not anchors:
        return None
    for anchor in _pem_certificates(anchors):
        for cert in chain:
            if cert == anchor or _issued_by(cert, anchor):
                return f"anchor {_name(anchor)}"
    return None


def _name(cert: Any) -> str:
    """Subject and fingerprint: anchors often share a subject (one root per key type)."""
    from cryptography.hazmat.primitives import hashes

    return f"{cert.subject.rfc4514_string()} (SHA-256 {cert.fingerprint(hashes.SHA256()).hex()[:16]})"


def _issued_by(cert: Any, anchor: Any) -> bool:
    try:
        cert.verify_directly_issued_by(anchor)
    except Exception:  # InvalidSignature, a key type that cannot sign certificates, a mismatched name
        return False
    return True


def _pem_certificates(data: bytes) -> list[Any]:
    from cryptography import x509

    try:
        return list(x509.load_pem_x509_certificates(data))
    except ValueError:
        return []


def _certificates(value: Any) -> list[Any]:
    """COSE ``x5chain``: one DER certificate, or an array of them, leaf first."""
    from cryptography import x509

    ders = [value] if isinstance(value, bytes) else value if isinstance(value, list) else []
    found = []
    for der in ders:
        if isinstance(der, bytes):
            try:
                found.append(x509.load_der_x509_certificate(der))
            except ValueError:
                continue
    return found


def _tst_tokens(headers: dict[Any, Any]) -> Iterator[bytes]:
    """RFC 3161 tokens of the ``sigTst``/``sigTst2`` header (C2PA 2.2 §10.3.2.5)."""
    for key in ("sigTst2", "sigTst"):
        stamps = headers.get(key)
        if isinstance(stamps, dict):
            for token in stamps.get("tstTokens") or []:
                if isinstance(token, dict) and isinstance(token.get("val"), bytes):
                    yield token["val"]


def _token_certificates(token: bytes) -> list[Any]:
    """The certificates a time-stamp token carries: a bare token, or one in its TimeStampResp (RFC 3161 §2.4.2)."""
    import warnings

    from cryptography.hazmat.primitives.serialization import pkcs7

    for content in (token, _second_element(token)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a BER token (as many TSAs send) is read all the same
                return list(pkcs7.load_der_pkcs7_certificates(content))
        except ValueError:
            continue
    return []


def _der_header(data: bytes, at: int) -> tuple[int, int]:
    """(offset of the contents, their length) of the DER element at ``at``."""
    length = data[at + 1]
    at += 2
    if length & 0x80:
        width = length & 0x7F
        if not 0 < width <= 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[at : at + width], "big")
        at += width
    return at, length


def _second_element(data: bytes) -> bytes:
    """The second element of a DER SEQUENCE (a TimeStampResp's token, after its status)."""
    start, _ = _der_header(data, 0)
    status, length = _der_header(data, start)
    token = status + length
    contents, token_length = _der_header(data, token)
    return data[token : contents + token_length]


# -- JUMBF (ISO 19566-5) and CBOR (RFC 8949), as much as a signature needs -----------------------------


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, bytes]]:
    """(type, payload) of each ISO BMFF-style box between ``start`` and ``end``."""
    end = len(data) if end is None else end
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        head = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, at + 8)
            head = 16
        elif size == 0:
            size = end - at
        if size < head or at + size > end:
            raise ValueError("box runs past its parent")
        yield kind, data[at + head : at + size]
        at += size


def _superbox(payload: bytes) -> tuple[str | None, list[tuple[bytes, bytes]]]:
    """A ``jumb`` box's label (from its ``jumd`` description) and its other boxes."""
    children = list(_boxes(payload))
    if not children or children[0][0] != b"jumd":
        raise ValueError("superbox without a description")
    description = children[0][1]
    label = None
    if len(description) > 17 and description[16] & 0x02:
        label = description[17:].split(b"\0", 1)[0].decode("utf-8", "replace")
    return label, children[1:]


def _signature_box(store: bytes, label: str) -> bytes | None:
    """The CBOR of manifest ``label``'s ``c2pa.signature`` in a manifest store (``/c2pa/label/c2pa.signature``)."""
    for kind, payload in _boxes(store):
        if kind != b"jumb":
            continue
        name, children = _superbox(payload)
        if name != "c2pa":
            continue
        for manifest_kind, manifest in children:
            if manifest_kind != b"jumb" or _superbox(manifest)[0] != label:
                continue
            for part_kind, part in _superbox(manifest)[1]:
                if part_kind != b"jumb":
                    continue
                part_label, contents = _superbox(part)
                if part_label == "c2pa.signature":
                    return next((body for box, body in contents if box == b"cbor"), None)
    return None


def _cose_headers(data: bytes) -> dict[Any, Any]:
    """The protected and unprotected headers of a COSE_Sign1 (RFC 9052 §4.2), protected winning."""
    value, _ = _cbor(data, 0, 0)
    if not isinstance(value, list) or len(value) != 4:
        raise ValueError("not a COSE_Sign1")
    protected = _cbor(value[0], 0, 0)[0] if isinstance(value[0], bytes) and value[0] else {}
    unprotected = value[1] if isinstance(value[1], dict) else {}
    return {**unprotected, **(protected if isinstance(protected, dict) else {})}


def _cbor(data: bytes, at: int, depth: int) -> tuple[Any, int]:
    """One CBOR item at ``at``: (value, offset after it). Definite lengths only; tags are dropped."""
    if depth > _MAX_DEPTH:
        raise ValueError("CBOR nested too deep")
    initial = data[at]
    major, info = initial >> 5, initial & 0x1F
    at += 1
    if info < 24:
        arg = info
    elif info <= 27:
        width = 1 << (info - 24)
        if at + width > len(data):
            raise ValueError("CBOR runs past its end")
        arg = int.from_bytes(data[at : at + width], "big")
        at += width
    else:
        raise ValueError("indefinite or reserved CBOR length")
    if major in (0, 1):
        return (arg if major == 0 else -1 - arg), at
    if major in (2, 3):
        if at + arg > len(data):
            raise ValueError("CBOR string runs past its end")
        raw = data[at : at + arg]
        return (raw if major == 2 else raw.decode("utf-8", "replace")), at + arg
    if major == 4:
        items = []
        for _ in range(arg):
            item, at = _cbor(data, at, depth + 1)
            items.append(item)
        return items, at
    if major == 5:
        mapping: dict[Any, Any] = {}
        for _ in range(arg):
            key, at = _cbor(data, at, depth + 1)
            item, at = _cbor(data, at, depth + 1)
            if isinstance(key, (int, str)):
                mapping[key] = item
        return mapping, at
    if major == 6:
        return _cbor(data, at, depth + 1)
    return None, at  # simple values and floats: nothing a signature header needs


# -- settings from files ---------------------------------------------------------------------------

#: The keys of a ``[trust]`` table, each a file path relative to the TOML file.
TRUST_KEYS = ("anchors", "allowed", "config", "tsa_anchors", "cawg_anchors")
_OID = re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")


def trust_files(settings: Path) -> dict[str, Path]:
    """The files a TOML ``[trust]`` table names (it may be a ``--sign-config`` too: other tables are left alone)."""
    import tomllib

    try:
        data = tomllib.loads(read_input_text(settings, "a trust settings file"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else exc
        raise DisclosureError(settings, f"cannot read the trust settings: {reason}") from None
    table = data.get("trust")
    if not isinstance(table, dict):
        raise DisclosureError(settings, "has no [trust] table", f"add one with any of: {', '.join(TRUST_KEYS)}")
    unknown = sorted(set(table) - set(TRUST_KEYS))
    if unknown:
        raise DisclosureError(settings, f"[trust] has unknown key {unknown[0]!r}", f"use only: {', '.join(TRUST_KEYS)}")
    files = {}
    for key, value in table.items():
        if not isinstance(value, str) or not value:
            raise DisclosureError(settings, f"[trust] {key} must be a file path (a TOML string)")
        files[key] = settings.parent / value
    return files


def read_allowed_list(path: Path | None) -> bytes | None:
    """An allowed list: PEM certificates and/or base64 SHA-256 hashes of certificates, one a line."""
    if path is None:
        return None
    data = _read(path, "the allowed list")
    lines = [line.strip() for line in _text(data).splitlines()]
    if not _pem_certificates(data) and not any(_is_digest(line) for line in lines):
        raise DisclosureError(
            path, "holds no certificate and no SHA-256 hash", "list PEM certificates or base64 SHA-256 hashes of them"
        )
    return data


def _is_digest(line: str) -> bool:
    try:
        return len(base64.b64decode(line, validate=True)) == 32
    except ValueError:
        return False


def read_trust_config(path: Path | None) -> bytes | None:
    """A trust configuration: extended key usage OIDs, one a line (``#`` starts a comment); the OIDs, one a line."""
    if path is None:
        return None
    oids = []
    for number, line in enumerate(_text(_read(path, "the trust configuration")).splitlines(), 1):
        oid = line.split("#", 1)[0].strip()
        if oid and not _OID.fullmatch(oid):
            raise DisclosureError(
                path, f"line {number} is not an OID", f"write one extended key usage a line, e.g. {CLAIM_SIGNING_EKU}"
            )
        oids += [oid] if oid else []
    if not oids:
        raise DisclosureError(path, "names no extended key usage", f"write one OID a line, e.g. {CLAIM_SIGNING_EKU}")
    return "\n".join(oids).encode() + b"\n"


def _read(path: Path, what: str) -> bytes:
    try:
        return read_input(path, what)
    except OSError as exc:
        raise DisclosureError(path, f"cannot read {what}: {exc.strerror or exc}") from None
