"""The QC sign-off document: who approved which files, in which state, and its detached CMS signature.

The document (``OUT.json``) names the reviewer, the time, the tool, each policy with the sha256 of its
text and, per file, its path relative to the folder it was found in, its sha256 before and after
approval, its verdict and rule outcomes; files not approved are listed with why. ``--sign`` adds
``OUT.json.p7s``, a detached CMS SignedData (RFC 5652, DER) over the document's exact bytes, made with
the reviewer's certificate, which ``openssl cms -verify -binary -inform DER`` checks independently.

Verifying parses the SignedData itself (asn1crypto): one signer, the ``messageDigest`` attribute equal
to the document's digest, the signature over the signed attributes by the signer's certificate, and
that certificate's chain to the trust anchors given (cryptography's X.509 verifier).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._version import __version__
from .check import PolicyInfo, RuleOutcome, Summary, Verdict
from .errors import DisclosureError

if TYPE_CHECKING:
    from cryptography import x509

    from .carriers.c2pa.identity import SigningIdentity

SIGNATURE_SUFFIX = ".p7s"
#: A sign-off document or its signature larger than these is not one aidisclose wrote: refused unread.
MAX_DOCUMENT_BYTES = 256 << 20  # a delivery of 100,000 files with every rule outcome fits
MAX_SIGNATURE_BYTES = 1 << 20
_EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"
_DOCUMENT_SIGNING = "1.3.6.1.5.5.7.3.36"
_ANY_EKU = "2.5.29.37.0"
_HASHES = {"sha256", "sha384", "sha512"}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Companion(_Model):
    """A file beside the media that holds part of its disclosure: its XMP or C2PA sidecar."""

    path: str = Field(description="Relative to the folder given, as the media's path is")
    sha256: str


class ApprovedFile(_Model):
    path: str = Field(description="Relative to the folder it was found in (a file named alone: its name)")
    path_bytes_b64: str | None = Field(
        default=None, description="The path's bytes (base64) when they are not UTF-8; 'path' then shows \\udcXX"
    )
    given: str = Field(description="The path given to approve that this file was found under")
    format: str | None = None
    sha256_before: str
    sha256_after: str
    verdict: Verdict = Field(description="The verdict of the check made after approval was written")
    c2pa_resigned: bool = Field(default=False, description="Its C2PA manifest was signed again, the old one kept")
    sidecars: list[Companion] = []
    results: list[RuleOutcome] = []


class NotApprovedFile(_Model):
    path: str
    path_bytes_b64: str | None = None
    given: str
    verdict: Verdict
    reason: str
    sha256: str | None = Field(default=None, description="The file's sha256, left as it was")
    results: list[RuleOutcome] = []


class SignoffDocument(_Model):
    """`aidisclose approve --signoff OUT.json` (stable; see `aidisclose schema --signoff`)."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", json_schema_extra={"$id": "https://aidisclose.org/schema/signoff/1.json"}
    )

    signoff_version: int = 1
    tool: str = "aidisclose"
    tool_version: str = __version__
    reviewer: str
    role: str | None = None
    notes: str | None = None
    signed_off_at: str = Field(description="When the review was recorded (UTC), as written into each file's qc.date")
    strict: bool = False
    policies: list[PolicyInfo]
    summary: Summary
    files: list[ApprovedFile]
    not_approved: list[NotApprovedFile]


def signoff_json_schema() -> dict[str, Any]:
    return SignoffDocument.model_json_schema()


def signature_path(document: Path) -> Path:
    return document.with_name(document.name + SIGNATURE_SUFFIX)


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` as ``path``: a temporary file beside it, fsynced, read back, renamed over it."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".aidisclose-tmp", dir=folder)
    except OSError as exc:
        raise DisclosureError(path, f"cannot write here: {exc.strerror or exc}", "check the folder") from None
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o644 & ~umask)
        if temp.read_bytes() != data:
            raise DisclosureError(path, "did not read back as written; nothing was replaced")
        os.replace(temp, path)
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise DisclosureError(path, f"cannot write it: {exc.strerror or exc}; nothing was replaced") from None
    finally:
        temp.unlink(missing_ok=True)


def document_bytes(document: SignoffDocument) -> bytes:
    from .display import model_json

    return (model_json(document, indent=2) + "\n").encode("utf-8")


def write_signoff(path: Path, document: SignoffDocument, signing: SigningIdentity | None) -> Path | None:
    """Write the document (and, with ``signing``, its detached signature); the signature's path.

    Without a signature, a signature left from an earlier document of that name is removed: it would
    not match, and a stale one must not make the new document look signed.
    """
    data = document_bytes(document)
    signature = sign_document(data, signing) if signing is not None else None  # a key that cannot sign: nothing
    target = signature_path(path)
    if signature is None:
        try:
            target.unlink(missing_ok=True)
        except OSError as exc:
            raise DisclosureError(target, f"cannot remove the earlier signature: {exc.strerror or exc}") from None
    write_atomically(path, data)
    if signature is None:
        return None
    write_atomically(target, signature)
    return target


def signer_subject(identity: SigningIdentity) -> str:
    """The subject of the identity's signing certificate, for people."""
    from cryptography import x509

    try:
        return _name(x509.load_pem_x509_certificates(identity.cert_chain)[0])
    except (ValueError, IndexError):
        return "an unreadable certificate"


def _hash_for(alg: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    return {"es384": hashes.SHA384(), "es512": hashes.SHA512()}.get(alg, hashes.SHA256())


def sign_document(data: bytes, identity: SigningIdentity) -> bytes:
    """A detached CMS SignedData over ``data`` (DER), by the identity's certificate, with its chain."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs7

    try:
        chain = x509.load_pem_x509_certificates(identity.cert_chain)
    except ValueError:
        raise DisclosureError("--sign-cert", "holds no PEM certificate", "give the PEM chain, signer first") from None
    key = serialization.load_pem_private_key(identity.private_key, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise DisclosureError("--sign-key", "a CMS signature needs an EC or RSA key", "sign with an ES256/PS256 key")
    try:
        _check_key_strength(key.public_key())  # what signoff verify would refuse is never signed with
    except _Invalid as why:
        raise DisclosureError("--sign-key", str(why), "sign with a P-256 key or RSA of 2048 bits or more") from None
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if chain[0].public_key().public_bytes(*spki) != key.public_key().public_bytes(*spki):
        raise DisclosureError("--sign-key", "is not the key of the first certificate in --sign-cert")
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(chain[0], key, _hash_for(identity.alg))
    for certificate in chain[1:]:
        builder = builder.add_certificate(certificate)
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return builder.sign(serialization.Encoding.DER, options)


# -- verifying -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureCheck:
    """What the detached signature says: ``state`` is unsigned, invalid, valid (not vouched for) or trusted."""

    state: str
    message: str
    signer: str | None = None
    anchor: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == "trusted"


@dataclass(frozen=True)
class FileCheckResult:
    path: str
    state: str  # ok, changed, missing, outside, not_approved, unlisted
    message: str


@dataclass(frozen=True)
class Verification:
    document: str
    signature: SignatureCheck
    files: list[FileCheckResult] = field(default_factory=list)
    parsed: SignoffDocument | None = None
    listed_only: bool = False  # the folder's other files were not looked at: a sign-off of some of them

    def ok(self, allow_unsigned: bool = False) -> bool:
        signed_ok = self.signature.ok or (allow_unsigned and self.signature.state == "unsigned")
        return signed_ok and all(f.state == "ok" for f in self.files)

    def to_json_dict(self, allow_unsigned: bool = False) -> dict[str, Any]:
        return {
            "document": self.document,
            "ok": self.ok(allow_unsigned),
            "signature": {
                "state": self.signature.state,
                "message": self.signature.message,
                "signer": self.signature.signer,
                "anchor": self.signature.anchor,
            },
            "reviewer": self.parsed.reviewer if self.parsed else None,
            "signed_off_at": self.parsed.signed_off_at if self.parsed else None,
            "files": [{"path": f.path, "state": f.state, "message": f.message} for f in self.files],
            "other_files_checked": not self.listed_only,
        }


def _read_limited(path: Path, limit: int, what: str) -> bytes:
    from .inputs import read_input

    try:
        return read_input(path, f"a {what}", limit)
    except OSError as exc:
        raise DisclosureError(path, f"cannot read the {what}: {exc.strerror or exc}") from None


def _name(certificate: x509.Certificate) -> str:
    from .display import terminal_text

    return terminal_text(certificate.subject.rfc4514_string())


def _fingerprint(certificate: x509.Certificate) -> str:
    from cryptography.hazmat.primitives import hashes

    return certificate.fingerprint(hashes.SHA256()).hex()


def check_signature(document: bytes, signature: bytes, anchors: bytes | None) -> SignatureCheck:
    """Check the detached CMS signature over ``document``; the signer's chain to ``anchors`` (PEM)."""
    try:
        signer, intermediates = _signed_by(document, signature)
    except _Invalid as why:
        return SignatureCheck("invalid", str(why))
    who = _name(signer)
    if anchors is None:
        return SignatureCheck(
            "valid", "the signature matches, but no trust anchors were given to vouch for the signer (--trust)", who
        )
    return _chain(signer, intermediates, anchors, who)


class _Invalid(Exception):
    """The signature does not verify: why, in words."""


def _signed_by(document: bytes, signature: bytes) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The certificate that signed ``document`` in the CMS ``signature``, and the others it carries."""
    from asn1crypto import cms
    from cryptography import x509

    try:
        info = cms.ContentInfo.load(signature, strict=True)  # bytes after the DER are not part of any signature
        if info["content_type"].native != "signed_data":
            raise _Invalid("the signature file is not a CMS SignedData")
        signed = info["content"]
        if signed["encap_content_info"]["content"].native is not None:
            raise _Invalid("the signature carries its own content; a detached signature over the document is expected")
        if signed["encap_content_info"]["content_type"].native != "data":
            raise _Invalid("the signed content type is not data")
        signers = list(signed["signer_infos"])
        if len(signers) != 1:
            raise _Invalid(f"the signature has {len(signers)} signers; one is expected")
        signer_info = signers[0]
        certificates = [c.chosen for c in signed["certificates"] if c.name == "certificate"]
        loaded = [x509.load_der_x509_certificate(c.dump()) for c in certificates]
        signer = _find_signer(signer_info["sid"], certificates, loaded)
        _check_signed_attributes(signer_info, document)
        to_verify = b"\x31" + signer_info["signed_attrs"].dump()[1:]  # signed as a SET OF, not [0] IMPLICIT
        _check_signature_value(signer, signer_info, to_verify)
    except _Invalid:
        raise
    except Exception as exc:  # asn1crypto and cryptography raise many kinds on malformed DER
        raise _Invalid(
            f"the signature file is not a CMS signature aidisclose can read ({type(exc).__name__})"
        ) from None
    return signer, [c for c in loaded if c != signer]


def _find_signer(sid: Any, certificates: list[Any], loaded: list[x509.Certificate]) -> x509.Certificate:
    for raw, certificate in zip(certificates, loaded, strict=True):
        if sid.name == "issuer_and_serial_number":
            if raw.issuer == sid.chosen["issuer"] and raw.serial_number == sid.chosen["serial_number"].native:
                return certificate
        elif sid.name == "subject_key_identifier" and raw.key_identifier == sid.chosen.native:
            return certificate
    raise _Invalid("the signer's certificate is not in the signature")


def _check_signed_attributes(signer_info: Any, document: bytes) -> None:
    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise _Invalid(f"the signature uses the digest {digest_name}, not SHA-256, SHA-384 or SHA-512")
    attributes = signer_info["signed_attrs"]
    if attributes.native is None:
        raise _Invalid("the signature has no signed attributes")
    values: dict[str, list[Any]] = {}
    for attribute in attributes:
        values.setdefault(attribute["type"].native, []).extend(attribute["values"])
    content_types = [v.native for v in values.get("content_type", [])]
    if content_types != ["data"]:
        raise _Invalid("the signed content type is not data")
    digests = [v.native for v in values.get("message_digest", [])]
    if len(digests) != 1:
        raise _Invalid("the signature does not hold exactly one message digest")
    if digests[0] != hashlib.new(digest_name, document).digest():
        raise _Invalid("the document changed after it was signed: its digest is not the one signed")


def _check_signature_value(signer: x509.Certificate, signer_info: Any, to_verify: bytes) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    digest = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[
        signer_info["digest_algorithm"]["algorithm"].native
    ]
    algorithm = signer_info["signature_algorithm"]
    scheme = algorithm.signature_algo
    named = _hash_named(algorithm)
    if named is not None and named != signer_info["digest_algorithm"]["algorithm"].native:
        name = algorithm["algorithm"].native
        raise _Invalid(f"the signature algorithm {name} names another digest than the signer's digest algorithm")
    value = signer_info["signature"].native
    key = signer.public_key()
    _check_key_strength(key)
    try:
        if scheme == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(value, to_verify, ec.ECDSA(digest))
        elif scheme == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(value, to_verify, padding.PKCS1v15(), digest)
        elif scheme == "rsassa_pss" and isinstance(key, rsa.RSAPublicKey):
            params = algorithm["parameters"]
            pss = padding.PSS(padding.MGF1(digest), params["salt_length"].native)
            key.verify(value, to_verify, pss, digest)
        else:
            raise _Invalid(f"the signature algorithm {scheme} does not match the signer's key")
    except InvalidSignature:
        raise _Invalid("the signature over the signed attributes does not verify with the signer's key") from None


def _check_key_strength(key: Any) -> None:
    """The signer's own key (which no chain check looks at): RSA of 2048 bits or more, or P-256/P-384/P-521."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPublicKey) and key.key_size < 2048:
        raise _Invalid(f"the signer's RSA key has {key.key_size} bits; 2048 or more are needed")
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name not in {"secp256r1", "secp384r1", "secp521r1"}:
        raise _Invalid(f"the signer's key is on the curve {key.curve.name}, not P-256, P-384 or P-521")


def _hash_named(algorithm: Any) -> str | None:
    """The digest a signature algorithm names (``sha256_ecdsa``: sha256); None if it names none (rsaEncryption)."""
    try:
        return str(algorithm.hash_algo)
    except (ValueError, TypeError):  # asn1crypto: no digest in the name, or PSS without its parameters
        return None


def _ee_policy() -> Any:
    """The signer's certificate: any extensions, but a key usage and extended key usage fit for signing."""
    from cryptography import x509
    from cryptography.x509.verification import Criticality, ExtensionPolicy

    def key_usage(_policy: Any, _cert: Any, usage: x509.KeyUsage | None) -> None:
        if usage is not None and not (usage.digital_signature or usage.content_commitment):
            raise ValueError("the signer's key usage allows no digital signature")

    def extended(_policy: Any, _cert: Any, usages: x509.ExtendedKeyUsage | None) -> None:
        if usages is None:
            return
        oids = {u.dotted_string for u in usages}
        if not oids & {_EMAIL_PROTECTION, _DOCUMENT_SIGNING, _ANY_EKU}:
            raise ValueError("the signer's extended key usage allows neither e-mail protection nor document signing")

    policy = ExtensionPolicy.permit_all()
    policy = policy.may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, key_usage)
    return policy.may_be_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, extended)


def _chain(signer: x509.Certificate, intermediates: list[x509.Certificate], anchors: bytes, who: str) -> SignatureCheck:
    from cryptography import x509
    from cryptography.x509.verification import ExtensionPolicy, PolicyBuilder, Store, VerificationError

    roots = x509.load_pem_x509_certificates(anchors)
    builder = PolicyBuilder().store(Store(roots)).time(dt.datetime.now(dt.UTC))
    builder = builder.extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_ee_policy())
    try:
        chain = builder.build_client_verifier().verify(signer, intermediates).chain
    except VerificationError as exc:
        return SignatureCheck("valid", f"the signature matches, but the signer is not trusted: {exc}", who)
    except Exception as exc:  # a chain the verifier cannot even walk is not trusted either
        return SignatureCheck("valid", f"the signature matches, but the signer's chain cannot be checked ({exc})", who)
    anchor = chain[-1]
    by = f"{_name(anchor)} (SHA-256 {_fingerprint(anchor)})"
    return SignatureCheck("trusted", f"signed by {who}, trusted by anchor {by}", who, by)


def _inside(base: Path, relative: str) -> Path | None:
    """``base / relative`` for a plain relative path; None for one that is absolute or climbs out."""
    parts = PurePosixPath(relative).parts
    if not relative or relative.startswith("/") or "\\" in relative or any(p in ("..", "") for p in parts):
        return None
    if "\x00" in relative:
        return None
    return base.joinpath(*parts)


def _check_file(base: Path, relative: str, expected: str) -> FileCheckResult:
    from .display import terminal_text

    shown = terminal_text(relative)
    target = _inside(base, relative)
    if target is None:
        return FileCheckResult(relative, "outside", f"{shown}: the path leads outside {base}; not checked")
    real_base = os.path.realpath(base)
    if os.path.commonpath([real_base, os.path.realpath(target)]) != real_base:
        return FileCheckResult(relative, "outside", f"{shown}: a symlink leads outside {base}; not followed")
    try:
        found = _regular_sha256(target)
    except FileNotFoundError:
        return FileCheckResult(relative, "missing", f"{shown}: missing from {terminal_text(str(base))}")
    except OSError as exc:
        return FileCheckResult(relative, "missing", f"{shown}: cannot read it: {exc.strerror or exc}")
    if found is None:
        return FileCheckResult(relative, "missing", f"{shown}: not a regular file in {terminal_text(str(base))}")
    if found != expected:
        return FileCheckResult(
            relative, "changed", f"{shown}: changed since the sign-off (sha256 {found}, signed off {expected})"
        )
    return FileCheckResult(relative, "ok", f"{shown}: sha256 as signed off")


def _regular_sha256(path: Path) -> str | None:
    """The sha256 of a regular file, read in blocks; None for anything else (a FIFO is never waited on)."""
    import stat

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        digest = hashlib.sha256()
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _left_in(base: Path, refused: NotApprovedFile) -> FileCheckResult | None:
    """A file the sign-off did not approve (it failed or could not be read) still in ``base``; None if gone.

    Files skipped as not media (a README, a hidden file, a FIFO) are not deliverables and pass.
    """
    from .display import terminal_text

    relative = _relative_path(refused)
    target = _inside(base, relative)
    if refused.verdict is Verdict.skipped or target is None or not os.path.lexists(target):
        return None
    why = terminal_text(refused.reason)
    return FileCheckResult(relative, "not_approved", f"{terminal_text(relative)}: not approved by the sign-off: {why}")


def _unlisted(base: Path, listed: set[str], own: set[str]) -> list[FileCheckResult]:
    """What ``base`` holds that the document does not name: files added after the sign-off, or left out of it.

    An entry the document names covers what is below it (a hidden folder, listed as skipped). Folders are
    not followed through symlinks; a symlink is an entry of its own. ``own``: the document and its signature.
    """
    from .display import terminal_text

    found: list[FileCheckResult] = []

    def cannot_list(error: OSError) -> None:
        where = os.path.relpath(error.filename, base) if error.filename else "."
        found.append(FileCheckResult(where, "unlisted", f"{terminal_text(where)}: cannot list it; not checked"))

    def covered(relative: str) -> bool:
        parts = relative.split("/")
        return any("/".join(parts[:n]) in listed for n in range(1, len(parts) + 1))

    parents = {"/".join(p.split("/")[:n]) for p in listed for n in range(1, p.count("/") + 1)}  # a link: own result
    for folder, folders, names in os.walk(base, onerror=cannot_list):
        links = [n for n in folders if os.path.islink(os.path.join(folder, n))]
        folders[:] = [n for n in folders if n not in links and not covered(_relative_to(base, folder, n))]
        for name in sorted(names + links):
            relative = _relative_to(base, folder, name)
            if covered(relative) or relative in parents or os.path.realpath(os.path.join(folder, name)) in own:
                continue
            message = f"{terminal_text(relative)}: in {terminal_text(str(base))} but not in the sign-off"
            found.append(FileCheckResult(relative, "unlisted", message))
    return sorted(found, key=lambda f: f.path)


def _relative_to(base: Path, folder: str, name: str) -> str:
    return os.path.relpath(os.path.join(folder, name), base).replace(os.sep, "/")


def _relative_path(approved: ApprovedFile | NotApprovedFile) -> str:
    """The file's relative path as the file system names it: its bytes, when they are not UTF-8."""
    if approved.path_bytes_b64 is None:
        return approved.path
    import base64
    import binascii

    try:
        return os.fsdecode(base64.b64decode(approved.path_bytes_b64, validate=True))
    except (binascii.Error, ValueError):
        return ""  # refused by _check_file as a path leading nowhere


def verify_signoff(
    path: Path, anchors: bytes | None = None, against: Path | None = None, listed_only: bool = False
) -> Verification:
    """Check the sign-off document ``path``: its signature (chain to ``anchors``), and with ``against`` its files.

    ``against`` is the delivery as it was approved: files left there that were not approved, and files
    added since, fail. With ``listed_only`` (a sign-off of some files of a folder) only the files the
    document lists are checked, and the result says the others were not looked at.

    Raises DisclosureError for input that is not a sign-off document at all (exit code 2); a signature
    or file that does not match is a result, not an error.
    """
    data = _read_limited(path, MAX_DOCUMENT_BYTES, "sign-off document")
    sig_path = signature_path(path)
    if sig_path.exists():
        signature = check_signature(data, _read_limited(sig_path, MAX_SIGNATURE_BYTES, "signature"), anchors)
    else:
        signature = SignatureCheck("unsigned", f"no signature: {sig_path.name} is not beside the document")
    if signature.state == "invalid":
        return Verification(str(path), signature)  # the document's content cannot be relied on at all
    try:
        document = SignoffDocument.model_validate_json(data)
    except ValidationError as exc:
        raise DisclosureError(
            path,
            f"is not an aidisclose sign-off document ({exc.error_count()} problems)",
            "give the OUT.json approve wrote",
        ) from None
    files: list[FileCheckResult] = []
    if against is not None:
        from .batch import SIDECAR_SUFFIXES

        if not against.is_dir():
            raise DisclosureError(against, "is not a folder", "give the folder the files were approved in")
        for approved in document.files:
            files.append(_check_file(against, _relative_path(approved), approved.sha256_after))
            files.extend(_check_file(against, c.path, c.sha256) for c in approved.sidecars)
        if listed_only:
            return Verification(str(path), signature, files, document, listed_only=True)
        files.extend(filter(None, (_left_in(against, n) for n in document.not_approved)))
        # a file not approved: its sidecars go with it (an approved file lists its own)
        refused = {_relative_path(n) for n in document.not_approved}
        listed = {f.path for f in files} | refused | {r + s for r in refused for s in SIDECAR_SUFFIXES}
        own = {os.path.realpath(path), os.path.realpath(sig_path)}
        files.extend(_unlisted(against, listed, own))
    return Verification(str(path), signature, files, document)
