"""C2PA content credentials through the official SDK (c2pa-python): sign last, read and validate.

The manifest carries ``c2pa.actions`` (written as ``c2pa.actions.v2``) with the
IPTC digital source type and the AI system as software agent,
``cawg.training-mining`` from the record, and ``org.aidisclose.record``: the
whole disclosure record (optionally with personal data left out). A manifest
already in the file is kept as the new one's ``parentOf`` ingredient. Formats
the SDK cannot embed into get a sidecar ``NAME.EXT.c2pa``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .. import __version__
from ..errors import DisclosureError
from ..vocab import IPTC_DST_BASE, TrainingMining, source_type_from_uri

RECORD_LABEL = "org.aidisclose.record"
#: Digital source types of content made from scratch (action c2pa.created); others edit captured media.
_CREATED = {
    "trainedAlgorithmicMedia",
    "algorithmicMedia",
    "digitalCreation",
    "dataDrivenMedia",
    "trainedAlgorithmicData",
}
_CAWG_USE = {
    TrainingMining.allowed: "allowed",
    TrainingMining.not_allowed: "notAllowed",
    TrainingMining.constrained: "constrained",
}
_CAWG_ENTRIES = ("cawg.ai_generative_training", "cawg.ai_training", "cawg.ai_inference", "cawg.data_mining")
#: SDK codes that mean the signed bytes changed after signing.
HASH_MISMATCH = ("assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch")
REDACTABLE = frozenset({"prompts", "persons"})
#: Temporary label pairing the c2pa.opened action with the parent ingredient (the SDK replaces it).
PARENT_LABEL = "aidisclose-parent"
DOCUMENT_SIGNING_OID = "1.3.6.1.5.5.7.3.36"


def _sdk() -> Any:
    """The C2PA SDK, loaded on first use: most files read never need it (see ``may_hold_manifest``)."""
    import c2pa

    return c2pa


def sidecar_manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".c2pa")


# -- signing identity -------------------------------------------------------------


@dataclass(frozen=True)
class SigningIdentity:
    """A PEM certificate chain (signer first) and its private key, plus an optional timestamp authority."""

    cert_chain: bytes
    private_key: bytes
    alg: str
    tsa_url: str | None = None

    @classmethod
    def from_files(cls, cert: Path, key: Path, tsa_url: str | None = None) -> SigningIdentity:
        try:
            chain, pem = cert.read_bytes(), key.read_bytes()
        except OSError as exc:
            raise DisclosureError(exc.filename, f"cannot read the signing {exc.strerror or exc}") from None
        return cls(chain, pem, _algorithm(pem, key), tsa_url)

    def signer(self) -> Any:
        info = _sdk().C2paSignerInfo(
            alg=self.alg.encode(),
            sign_cert=self.cert_chain,
            private_key=self.private_key,
            ta_url=self.tsa_url.encode() if self.tsa_url else None,
        )
        try:
            return _sdk().Signer.from_info(info)
        except _sdk().C2paError as exc:
            raise DisclosureError("signing key", f"the C2PA SDK refused the certificate or key: {exc}") from None


def _algorithm(pem: bytes, where: Path) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise DisclosureError(where, f"is not an unencrypted PEM private key ({exc})") from None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name in curves:
            return curves[key.curve.name]
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    raise DisclosureError(where, "key type is not one C2PA signs with (ES256/ES384/ES512, PS256, Ed25519)")


def identity_from_settings(
    cert: Path | None, key: Path | None, config: Path | None = None, tsa_url: str | None = None
) -> SigningIdentity:
    """Options first, then ``AIDISCLOSE_SIGN_CERT`` / ``AIDISCLOSE_SIGN_KEY``, then a TOML config file."""
    import tomllib

    cert = cert or _env_path("AIDISCLOSE_SIGN_CERT")
    key = key or _env_path("AIDISCLOSE_SIGN_KEY")
    if (cert is None or key is None) and config is not None:
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise DisclosureError(config, f"cannot read the signing config: {exc}") from None
        base = config.parent
        cert = cert or (base / data["cert"] if "cert" in data else None)
        key = key or (base / data["key"] if "key" in data else None)
        tsa_url = tsa_url or data.get("tsa_url")
    if cert is None or key is None:
        raise DisclosureError(
            "--sign",
            "no signing certificate and key",
            "pass --sign-cert and --sign-key, set AIDISCLOSE_SIGN_CERT and AIDISCLOSE_SIGN_KEY, "
            "or make test ones with `aidisclose keys init DIR`",
        )
    return SigningIdentity.from_files(cert, key, tsa_url)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def make_test_ca(folder: Path) -> dict[str, Path]:
    """A local test CA and signing certificate with the extensions C2PA requires. Untrusted, for testing only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    folder.mkdir(parents=True, exist_ok=True)
    document_signing = ObjectIdentifier(DOCUMENT_SIGNING_OID)
    now = dt.datetime.now(dt.UTC)
    org = "aidisclose TEST ONLY - untrusted, not for production"

    def name(common: str) -> x509.Name:
        return x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, common), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)]
        )

    def usage(sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(sign, False, False, False, False, ca, ca, False, False)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("aidisclose TEST CA (untrusted)"))
        .issuer_name(name("aidisclose TEST CA (untrusted)"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name("aidisclose TEST signer (untrusted)"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(sign=True, ca=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, document_signing]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths = {"chain": folder / "chain.pem", "key": folder / "key.pem", "ca": folder / "ca.pem"}
    paths["chain"].write_bytes(cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    paths["ca"].write_bytes(ca_cert.public_bytes(pem))
    paths["key"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    paths["key"].chmod(0o600)
    (folder / "README.txt").write_text(
        "TEST ONLY - UNTRUSTED. Made by `aidisclose keys init`.\n"
        "chain.pem: signing certificate + test CA; key.pem: its private key; ca.pem: the trust anchor.\n"
        "Manifests signed with these read as 'valid' (untrusted), or 'trusted' only with --trust ca.pem.\n"
        "Never use them for deliveries.\n"
    )
    return paths


# -- the manifest -------------------------------------------------------------------


def redacted(record: dict[str, Any], redact: frozenset[str]) -> dict[str, Any]:
    """The record without prompts and/or the names of people, for the manifest."""
    data: dict[str, Any] = json.loads(json.dumps(record))
    if "prompts" in redact:
        data.pop("prompts", None)
    if "persons" in redact:
        data.pop("creators", None)
        data.pop("rights_holders", None)
        for prompt in data.get("prompts", []):
            prompt.pop("writer", None)
        for item in data.get("likeness", []):
            item["person"] = "[redacted]"
        for key, person in (("human_review", "reviewer"), ("qc", "by")):
            if isinstance(data.get(key), dict):
                data[key].pop(person, None)
    return data


def needs_parent(record: dict[str, Any], source_has_manifest: bool) -> bool:
    """Whether the stamped file is an edit of the original (which then becomes the parentOf ingredient).

    Only content generated from nothing, with no earlier manifest, is a plain creation.
    """
    return source_has_manifest or record.get("digital_source_type") not in _CREATED


def build_manifest(record: dict[str, Any], title: str, redact: frozenset[str], parent: bool) -> dict[str, Any]:
    """The manifest definition: actions, training and mining, and the (redacted) record."""
    source_type = record.get("digital_source_type")
    action: dict[str, Any] = {"action": "c2pa.edited" if parent else "c2pa.created"}
    if source_type:
        action["digitalSourceType"] = IPTC_DST_BASE + source_type
    systems = record.get("ai_systems") or []
    if systems:
        agent = {"name": systems[0]["name"]}
        if systems[0].get("version"):
            agent["version"] = systems[0]["version"]
        action["softwareAgent"] = agent
    if record.get("usage_description"):
        action["parameters"] = {"description": record["usage_description"]}
    opened = {"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_LABEL]}}
    actions = [opened, action] if parent else [action]
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions", "data": {"actions": actions}}]
    if record.get("training_mining"):
        use = _CAWG_USE[TrainingMining(record["training_mining"])]
        entry: dict[str, Any] = {"use": use}
        if use == "constrained" and record.get("usage_terms"):
            entry["constraint_info"] = record["usage_terms"]
        assertions.append({"label": "cawg.training-mining", "data": {"entries": dict.fromkeys(_CAWG_ENTRIES, entry)}})
    assertions.append({"label": RECORD_LABEL, "data": redacted(record, redact)})
    return {
        "claim_generator_info": [{"name": "aidisclose", "version": __version__}],
        "title": title,
        "assertions": assertions,
    }


def can_embed(mime: str) -> bool:
    """Formats we embed manifests into: those the SDK supports that aidisclose signs and checks."""
    return mime.split(";")[0] in _EXTENSIONS


def sign(
    source: Path,
    target: Path,
    mime: str,
    manifest: dict[str, Any],
    identity: SigningIdentity,
    parent: Path | None = None,
    embed: bool = True,
    subject: Path | None = None,
) -> bytes:
    """Sign ``source`` into ``target`` (embedded), or return the manifest store for a sidecar.

    ``parent`` (the original file) becomes the parentOf ingredient; errors name ``subject``.
    """
    mime = mime.split(";")[0]
    try:
        with _sdk().Builder.from_json(json.dumps(manifest)) as builder:
            if parent is not None:
                ingredient = {"title": parent.name, "relationship": "parentOf", "label": PARENT_LABEL}
                with open(parent, "rb") as stream:
                    builder.add_ingredient(ingredient, mime, stream)
            if not embed:
                builder.set_no_embed()
            signer = identity.signer()
            try:
                if embed:
                    store: bytes = _sign_file(builder, signer, source, target, mime)
                else:
                    with open(source, "rb") as src, open(target, "w+b") as dst:
                        store = builder.sign(signer, mime, src, dst)
            finally:
                signer.close()
    except _sdk().C2paError as exc:
        raise DisclosureError(subject or source, f"C2PA signing failed: {' '.join(str(exc).split())}") from None
    return store


#: The extension the SDK's path API needs to recognise each format we embed into.
_EXTENSIONS = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif", "image/webp": ".webp",
    "audio/mpeg": ".mp3", "audio/wav": ".wav", "audio/flac": ".flac", "audio/mp4": ".m4a",
    "video/mp4": ".mp4", "video/quicktime": ".mov", "video/x-m4v": ".m4v",
}  # fmt: skip


def _sign_file(builder: Any, signer: Any, source: Path, target: Path, mime: str) -> bytes:
    """Sign through the SDK's path API, which keeps the bytes in Rust (no Python callback per block).

    It tells formats by extension while we tell them by content, so it is given correctly
    named paths: a link to the source and an output beside the target.
    """
    extension = _EXTENSIONS[mime]
    link = target.with_name(f"{target.name}.source{extension}")
    output = target.with_name(f"{target.name}.signed{extension}")
    try:
        os.symlink(source.resolve(), link)
        store: bytes = builder.sign_file(str(link), str(output), signer)
        os.replace(output, target)
    finally:
        link.unlink(missing_ok=True)
        output.unlink(missing_ok=True)
    return store


# -- reading ------------------------------------------------------------------------


class C2paInfo(BaseModel):
    """What the manifest store says, for inspect and the policy engine."""

    model_config = ConfigDict(frozen=True)

    state: str = "none"  # exactly one of none, invalid, valid, trusted
    codes: list[str] = []
    message: str | None = None
    active_manifest: str | None = None
    signer: dict[str, str] = {}
    signed_at: str | None = None
    actions: list[dict[str, Any]] = []
    digital_source_types: list[str] = []
    ingredients: list[dict[str, Any]] = []
    record: dict[str, Any] | None = None
    sidecar: str | None = None


def _context(trust_anchors: bytes | None) -> Any:
    if not trust_anchors:
        return None
    settings = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": trust_anchors.decode()}}
    return _sdk().Context.from_dict(settings)


def read_manifest(path: Path, mime: str, trust_anchors: bytes | None = None) -> C2paInfo:
    """The validation state and contents of the file's manifest store (embedded or sidecar)."""
    return read_manifest_with(path, mime, sidecar_manifest_path(path), trust_anchors)


C2PA_BMFF_UUID = bytes.fromhex("D8FEC3D61B0E483C92975828877EC481")


def may_hold_manifest(path: Path, mime: str) -> bool:
    """False only when a look at the headers proves there is no embedded manifest store.

    The SDK scans the whole file to find none, which costs more than the rest of a read; this
    looks where each format keeps the store (JPEG APP11, PNG caBX, TIFF tag 52545, RIFF C2PA,
    BMFF uuid, ID3 GEOB in MP3 and FLAC) and says True whenever it is not sure.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
            if mime == "image/jpeg":
                return _jpeg_may_hold(head)
            if mime == "image/png":
                return _png_may_hold(handle)
            if mime in ("audio/wav", "image/webp"):
                return _riff_may_hold(handle)
            if mime == "image/tiff":
                return _tiff_may_hold(handle, head)
            if mime in ("video/mp4", "video/quicktime", "video/x-m4v", "audio/mp4"):
                return _bmff_may_hold(path)
            if mime in ("audio/mpeg", "audio/flac"):  # the store is a GEOB frame of a leading ID3 tag
                from .id3 import id3v2_size

                size = id3v2_size(head)
                handle.seek(0)
                return size > 0 and b"application/c2pa" in handle.read(size)
    except (OSError, ValueError, IndexError, DisclosureError):
        return True  # unsure: let the SDK look
    return True


def _jpeg_may_hold(head: bytes) -> bool:
    position = 2
    while position + 4 <= len(head):
        if head[position] != 0xFF:
            return True  # not a marker where one should be: let the SDK look
        marker = head[position + 1]
        if marker == 0xEB:  # APP11 carries JUMBF
            return True
        if marker in (0xDA, 0xD9):  # start of scan / end of image: no APP11 came before
            return False
        position += 2 + int.from_bytes(head[position + 2 : position + 4], "big")
    return True


def _png_may_hold(handle: Any) -> bool:
    handle.seek(8)
    while True:
        header = handle.read(8)
        if len(header) < 8:
            return True
        length, kind = int.from_bytes(header[:4], "big"), header[4:]
        if kind == b"caBX":
            return True
        if kind == b"IEND":
            return False
        handle.seek(length + 4, 1)  # the spec recommends caBX before IDAT, but does not require it


C2PA_TIFF_TAG = 52545  # 0xCD41, an entry of the first IFD pointing at the manifest store


def _tiff_may_hold(handle: Any, head: bytes) -> bool:
    order: Literal["little", "big"]
    if head[:4] == b"II*\0":
        order = "little"
    elif head[:4] == b"MM\0*":
        order = "big"
    else:
        return True  # BigTIFF or not TIFF at all: let the SDK look
    handle.seek(int.from_bytes(head[4:8], order))
    count = int.from_bytes(handle.read(2), order)
    entries = handle.read(12 * count)
    if count == 0 or len(entries) < 12 * count:
        return True
    return any(int.from_bytes(entries[i : i + 2], order) == C2PA_TIFF_TAG for i in range(0, len(entries), 12))


def _riff_may_hold(handle: Any) -> bool:
    handle.seek(0, 2)
    size = handle.tell()
    position = 12
    while position + 8 <= size:
        handle.seek(position)
        header = handle.read(8)
        if header[:4] == b"C2PA":
            return True
        length = int.from_bytes(header[4:], "little")
        position += 8 + length + (length & 1)
    return False


def _bmff_may_hold(path: Path) -> bool:
    from .bmff import top_level_boxes

    with open(path, "rb") as handle:
        for box in top_level_boxes(path):
            if box.kind == b"uuid":
                handle.seek(box.payload)
                if handle.read(16) == C2PA_BMFF_UUID:
                    return True
    return False


def read_manifest_with(path: Path, mime: str, sidecar: Path, trust_anchors: bytes | None = None) -> C2paInfo:
    """As ``read_manifest``, with the sidecar manifest store read from ``sidecar`` if it exists."""
    mime = mime.split(";")[0]
    context = _context(trust_anchors)
    try:
        if sidecar.exists():
            with open(path, "rb") as stream:
                reader = _sdk().Reader(mime, stream, manifest_data=sidecar.read_bytes(), context=context)
                return _info(reader, trust_anchors, str(sidecar))
        if not can_embed(mime) or not may_hold_manifest(path, mime):
            return C2paInfo()
        reader = _sdk().Reader.try_create(str(path), context=context)
        if reader is None:
            return C2paInfo()
        return _info(reader, trust_anchors, None)
    except _sdk().C2paError as exc:
        return C2paInfo(
            state="invalid",
            codes=["manifest.unreadable"],
            message=f"the manifest store cannot be read: {' '.join(str(exc).split())}",
            sidecar=str(sidecar) if sidecar.exists() else None,
        )


def _info(reader: Any, trust_anchors: bytes | None, sidecar: str | None) -> C2paInfo:
    with reader:
        state = (reader.get_validation_state() or "Invalid").lower()
        report = json.loads(reader.json())
        active = reader.get_active_manifest() or {}
    if state == "trusted" and not trust_anchors:
        state = "valid"  # never say trusted without anchors given by the user
    codes = [s["code"] for s in report.get("validation_status") or [] if "code" in s]
    actions: list[dict[str, Any]] = []
    record = None
    for assertion in active.get("assertions", []):
        if assertion.get("label", "").startswith("c2pa.actions"):
            actions += assertion.get("data", {}).get("actions", [])
        elif assertion.get("label") == RECORD_LABEL:
            record = assertion.get("data")
    signature = active.get("signature_info") or {}
    return C2paInfo(
        state=state,
        codes=codes,
        active_manifest=report.get("active_manifest"),
        signer={k: str(signature[k]) for k in ("issuer", "common_name", "alg") if signature.get(k)},
        signed_at=signature.get("time"),
        actions=actions,
        digital_source_types=[
            source_type_from_uri(a["digitalSourceType"]) for a in actions if a.get("digitalSourceType")
        ],
        ingredients=[
            {k: i.get(k) for k in ("title", "relationship", "active_manifest") if i.get(k)}
            for i in active.get("ingredients", [])
        ],
        record=record,
        sidecar=sidecar,
    )
