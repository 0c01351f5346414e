"""Reading and validating a file's manifest store through the SDK, under a header pre-scan."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ...errors import DisclosureError
from ...vocab import source_type_from_uri
from .manifest import RECORD_LABEL
from .place import ManifestPlace, sidecar_manifest_path
from .sdk import sdk

#: SDK codes that mean the signed bytes changed after signing.
HASH_MISMATCH = ("assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch")


class C2paState(StrEnum):
    """The validation state of a file's manifest store."""

    NONE = "none"
    INVALID = "invalid"
    VALID = "valid"  # the signature holds; the signer is not (or not shown to be) trusted
    TRUSTED = "trusted"  # valid, and the signer chains to a trust anchor the user gave

    @property
    def holds(self) -> bool:
        """A manifest whose signature and hashes hold."""
        return self in (C2paState.VALID, C2paState.TRUSTED)


class C2paInfo(BaseModel):
    """What the manifest store says, for inspect and the policy engine."""

    model_config = ConfigDict(frozen=True)

    state: C2paState = C2paState.NONE
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


def read_trust_anchors(path: Path) -> bytes:
    """The PEM certificates in ``path``, the trust anchors a signer must chain to to read as trusted.

    Anything else (a DER certificate, a key, any other file) is refused with one line saying what to give.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DisclosureError(path, f"cannot read the trust anchors: {exc.strerror or exc}") from None
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        try:
            x509.load_der_x509_certificate(data)
        except ValueError:
            raise DisclosureError(
                path, "holds no PEM certificate to trust", "give the CA certificates as PEM: BEGIN CERTIFICATE blocks"
            ) from None
        raise DisclosureError(
            path,
            "is a DER certificate; trust anchors are read as PEM",
            f"convert it: openssl x509 -inform der -in {path}",
        ) from None
    return b"".join(certificate.public_bytes(Encoding.PEM) for certificate in certificates)


def _context(trust_anchors: bytes | None) -> Any:
    if not trust_anchors:
        return None
    settings = {"verify": {"verify_trust": True}, "trust": {"trust_anchors": trust_anchors.decode()}}
    return sdk().Context.from_dict(settings)


def read_manifest(path: Path, place: ManifestPlace, trust_anchors: bytes | None = None) -> C2paInfo:
    """The validation state and contents of the file's manifest store (embedded or sidecar)."""
    return read_manifest_with(path, place, sidecar_manifest_path(path), trust_anchors)


def read_manifest_with(path: Path, place: ManifestPlace, sidecar: Path, trust_anchors: bytes | None = None) -> C2paInfo:
    """As ``read_manifest``, with the sidecar manifest store read from ``sidecar`` if it exists."""
    context = _context(trust_anchors)
    try:
        if sidecar.exists():
            with open(path, "rb") as stream:
                reader = sdk().Reader(place.mime, stream, manifest_data=sidecar.read_bytes(), context=context)
                return _info(reader, trust_anchors, str(sidecar))
        if not place.embedded or (place.may_hold is not None and not place.may_hold(path)):
            return C2paInfo()
        reader = sdk().Reader.try_create(str(path), context=context)
        if reader is None:
            return C2paInfo()
        return _info(reader, trust_anchors, None)
    except sdk().C2paError as exc:
        return C2paInfo(
            state=C2paState.INVALID,
            codes=["manifest.unreadable"],
            message=f"the manifest store cannot be read: {' '.join(str(exc).split())}",
            sidecar=str(sidecar) if sidecar.exists() else None,
        )


def _info(reader: Any, trust_anchors: bytes | None, sidecar: str | None) -> C2paInfo:
    with reader:
        state = C2paState((reader.get_validation_state() or "Invalid").lower())
        report = json.loads(reader.json())
        active = reader.get_active_manifest() or {}
    if state is C2paState.TRUSTED and not trust_anchors:
        state = C2paState.VALID  # never say trusted without anchors given by the user
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
