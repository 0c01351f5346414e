"""Reading and validating a file's manifest store through the SDK, under a header pre-scan.

Validation is kept per manifest, as the SDK reports it (C2PA 2.2 §15.2, validation results):
the active manifest's success, informational and failure codes, and each ingredient's, whose
results were recorded when it was added and are brought up to date by the SDK's
``ingredientDeltas``. A remote manifest is never fetched unless asked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict

from ...bounded import call_bounded, reading_seconds
from ...errors import DisclosureError
from ...vocab import source_type_from_uri
from .manifest import RECORD_LABEL
from .place import ManifestPlace, sidecar_manifest_path
from .sdk import sdk
from .trust import TrustSettings, Vouchers, vouchers

#: SDK codes that mean the signed bytes changed after signing.
HASH_MISMATCH = ("assertion.dataHash.mismatch", "assertion.bmffHash.mismatch", "assertion.boxesHash.mismatch")
#: A failure code that leaves a manifest valid, only not trusted (as the SDK's own Valid state does).
UNTRUSTED = "signingCredential.untrusted"
TRUSTED_CODE = "signingCredential.trusted"
_REMOTE = re.compile(r"remote manifests from url (\S+)", re.IGNORECASE)


class C2paState(StrEnum):
    """The validation state of a file's manifest store."""

    NONE = "none"
    INVALID = "invalid"
    VALID = "valid"  # the signature holds; the signer is not (or not shown to be) trusted
    TRUSTED = "trusted"  # valid, and the signer chains to a trust anchor the user gave
    REMOTE = "remote"  # the file points at a manifest on the web, not fetched (see ``remote_url``)

    @property
    def holds(self) -> bool:
        """A manifest whose signature and hashes hold."""
        return self in (C2paState.VALID, C2paState.TRUSTED)


class Validation(BaseModel):
    """One manifest's validation codes, each once, in the SDK's order."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    success: list[str] = []
    informational: list[str] = []
    failure: list[str] = []

    def state(self, trusted_allowed: bool) -> C2paState:
        """Invalid on any failure but an untrusted signer; trusted only when anchors were given."""
        if any(code != UNTRUSTED for code in self.failure):
            return C2paState.INVALID
        if trusted_allowed and TRUSTED_CODE in self.success and UNTRUSTED not in self.failure:
            return C2paState.TRUSTED
        return C2paState.VALID


class IngredientInfo(BaseModel):
    """An ingredient of the active manifest and, when it brought a manifest of its own, that manifest's validation."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    title: str | None = None
    relationship: str | None = None
    active_manifest: str | None = None
    state: C2paState = C2paState.NONE  # none: the ingredient carried no manifest
    signer: dict[str, str] = {}
    trusted_by: str | None = None  # the anchor (or allowed-list entry) that vouched for its signer
    validation: Validation = Validation()


class C2paInfo(BaseModel):
    """What the manifest store says, for inspect and the policy engine."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    state: C2paState = C2paState.NONE
    codes: list[str] = []  # the active manifest's failure codes (``validation.failure``)
    message: str | None = None
    active_manifest: str | None = None
    claim_version: int | None = None  # the active manifest's claim: 1, or 2 (``c2pa.claim.v2``, C2PA 2.x)
    validation: Validation = Validation()
    signer: dict[str, str] = {}
    trusted_by: str | None = None  # the anchor (or allowed-list entry) that made the signer trusted
    signed_at: str | None = None
    timestamp: str | None = None  # the time-stamp's state: trusted, validated (TSA not trusted), or its failure
    timestamp_trusted_by: str | None = None  # the anchor that vouched for the time-stamp authority
    revocation: str | None = None  # the signer's OCSP state where the SDK has one (C2PA 2.2 §14.6)
    actions: list[dict[str, Any]] = []
    digital_source_types: list[str] = []
    ingredients: list[IngredientInfo] = []
    training_mining: dict[str, str] = {}  # cawg.training-mining: each use (``cawg.ai_training``...) to its permission
    #: The AI systems the actions name, in order (v2 ``softwareAgentIndex`` resolved, v1 strings as names).
    software_agents: list[dict[str, str]] = []
    record: dict[str, Any] | None = None
    sidecar: str | None = None
    remote_url: str | None = None

    @property
    def failed_ingredients(self) -> list[IngredientInfo]:
        return [i for i in self.ingredients if i.state is C2paState.INVALID]


#: The state of a file that holds no manifest, the common case: made once (frozen, so shared), as making
#: one copies each default (a Validation model among them) at ~70 µs a file.
NO_MANIFEST = C2paInfo()


def read_trust_anchors(path: Path) -> bytes:
    """The PEM certificates in ``path``, the trust anchors a signer must chain to to read as trusted.

    Anything else (a DER certificate, a key, any other file) is refused with one line saying what to give.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from ...inputs import read_input

    try:
        data = read_input(path, "trust anchors")  # bounded: /dev/zero or a huge file is one line, not a stall
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


def sdk_context(trust: TrustSettings | None, fetch_remote: bool = False) -> Any:
    """The SDK's settings for one read (a context is not shared between readers: the SDK keeps state in it)."""
    settings = (trust or TrustSettings()).sdk_settings()
    settings["verify"]["remote_manifest_fetch"] = fetch_remote
    return sdk().Context.from_dict(settings)


def read_manifest(
    path: Path,
    place: ManifestPlace,
    trust: TrustSettings | None = None,
    fetch_remote: bool = False,
    stream_of: Callable[[], AbstractContextManager[IO[bytes]]] | None = None,
) -> C2paInfo:
    """The validation state and contents of the file's manifest store (embedded or sidecar).

    A manifest the file only points at on the web is fetched only with ``fetch_remote``; otherwise
    its state is ``remote``, with the URL. ``stream_of`` opens the bytes the SDK validates when they
    are not ``path``'s (an object in storage: ``path`` is then its mirror, for the pre-scan).
    """
    return read_manifest_with(path, place, sidecar_manifest_path(path), trust, fetch_remote, stream_of)


def read_manifest_with(
    path: Path,
    place: ManifestPlace,
    sidecar: Path,
    trust: TrustSettings | None = None,
    fetch_remote: bool = False,
    stream_of: Callable[[], AbstractContextManager[IO[bytes]]] | None = None,
) -> C2paInfo:
    """As ``read_manifest``, with the sidecar manifest store read from ``sidecar`` if it exists.

    The SDK runs in the bounded helper (``bounded.call_bounded``): it holds up to half a gigabyte
    while it hashes a large file (two 256 MB buffers in c2pa-rs), and about twice the file while it
    reads a WAV's chunks, so a file too large for the memory limit is refused in one line and a
    batch goes on. Files whose headers show no manifest never reach it. An object in storage
    (``stream_of``) is validated in this process, streamed from storage.
    """
    trust = trust or TrustSettings()
    has_sidecar = sidecar.exists()
    if not has_sidecar and (not place.embedded or (place.may_hold is not None and not place.may_hold(path))):
        return NO_MANIFEST
    if stream_of is not None:  # an object in storage: its open stream lives in this process, not the helper's
        return _read(path, place.mime, sidecar if has_sidecar else None, trust, fetch_remote, stream_of)
    found = call_bounded(
        path,
        "reading the C2PA manifest",
        _read_here,
        path,
        place.mime,
        sidecar if has_sidecar else None,
        trust,
        fetch_remote,
        prepare=sdk,
        extra_seconds=reading_seconds(path),
    )
    return C2paInfo.model_validate_json(found)


def _read_here(path: Path, mime: str, sidecar: Path | None, trust: TrustSettings, fetch_remote: bool) -> bytes:
    """``read_manifest_with`` itself, run in the bounded helper: the C2paInfo as JSON."""
    return _read(path, mime, sidecar, trust, fetch_remote).model_dump_json().encode()


def _read(
    path: Path,
    mime: str,
    sidecar: Path | None,
    trust: TrustSettings,
    fetch_remote: bool,
    stream_of: Callable[[], AbstractContextManager[IO[bytes]]] | None = None,
) -> C2paInfo:
    try:
        if sidecar is not None:
            store = sidecar.read_bytes()
            with stream_of() if stream_of else open(path, "rb") as stream:
                reader = sdk().Reader(mime, stream, manifest_data=store, context=sdk_context(trust, fetch_remote))
                return _info(reader, trust, str(sidecar), store)
        if stream_of is not None:
            with stream_of() as stream:
                reader = sdk().Reader.try_create(mime, stream, context=sdk_context(trust, fetch_remote))
                return NO_MANIFEST if reader is None else _info(reader, trust, None, None)
        reader = sdk().Reader.try_create(str(path), context=sdk_context(trust, fetch_remote))
        if reader is None:
            return NO_MANIFEST
        return _info(reader, trust, None, None)
    except sdk().C2paError as exc:
        reason = " ".join(str(exc).split())
        remote = _REMOTE.search(reason)
        if remote is not None:
            url = remote.group(1)
            return C2paInfo(
                state=C2paState.REMOTE,
                remote_url=url,
                message=f"the manifest is remote, at {url}; not fetched (pass --fetch-remote to fetch and validate it)",
            )
        return C2paInfo(
            state=C2paState.INVALID,
            codes=["manifest.unreadable"],
            validation=Validation(failure=["manifest.unreadable"]),
            message=f"the manifest store cannot be read: {reason}",
            sidecar=str(sidecar) if sidecar is not None else None,
        )


def _codes(statuses: Any) -> list[str]:
    """The codes of a list of validation statuses, each once."""
    if not isinstance(statuses, list):
        return []
    return list(dict.fromkeys(s["code"] for s in statuses if isinstance(s, dict) and isinstance(s.get("code"), str)))


def _validation(results: Any) -> Validation:
    results = results if isinstance(results, dict) else {}
    return Validation(**{kind: _codes(results.get(kind)) for kind in ("success", "informational", "failure")})


def _family(code: str) -> str:
    return code.rpartition(".")[0]


def _updated(recorded: Validation, delta: Validation) -> Validation:
    """An ingredient's recorded results with the SDK's delta laid over: a new code replaces those of its family.

    ``signingCredential.trusted`` now, say, replaces the ``signingCredential.untrusted`` recorded when
    the ingredient was added without trust anchors.
    """
    families = {_family(code) for code in (*delta.success, *delta.informational, *delta.failure)}

    def merged(old: list[str], new: list[str]) -> list[str]:
        return list(dict.fromkeys([*(c for c in old if _family(c) not in families), *new]))

    return Validation(
        success=merged(recorded.success, delta.success),
        informational=merged(recorded.informational, delta.informational),
        failure=merged(recorded.failure, delta.failure),
    )


def _signer(manifest: dict[str, Any]) -> dict[str, str]:
    signature = manifest.get("signature_info") or {}
    return {k: str(signature[k]) for k in ("issuer", "common_name", "alg") if signature.get(k)}


def _ingredients(
    report: dict[str, Any], active_label: str | None, trusted_allowed: bool, vouched: dict[str, Vouchers]
) -> list[IngredientInfo]:
    manifests = report.get("manifests") or {}
    active = manifests.get(active_label) or {}
    deltas = {
        d.get("ingredientAssertionURI"): _validation(d.get("validationDeltas"))
        for d in (report.get("validation_results") or {}).get("ingredientDeltas") or []
        if isinstance(d, dict)
    }
    found = []
    for ingredient in active.get("ingredients") or []:
        label = ingredient.get("active_manifest")
        recorded = _validation((ingredient.get("validation_results") or {}).get("activeManifest"))
        if not recorded.failure and ingredient.get("validation_status"):  # a v1 ingredient: failures only
            recorded = recorded.model_copy(update={"failure": _codes(ingredient["validation_status"])})
        uri = f"self#jumbf=/c2pa/{active_label}/c2pa.assertions/{ingredient.get('label')}"
        validation = _updated(recorded, deltas.get(uri, Validation()))
        state = C2paState.NONE if label is None and not validation.failure else validation.state(trusted_allowed)
        found.append(
            IngredientInfo(
                title=ingredient.get("title"),
                relationship=ingredient.get("relationship"),
                active_manifest=label,
                state=state,
                signer=_signer(manifests.get(label) or {}),
                trusted_by=vouched[label].signer if state is C2paState.TRUSTED and label in vouched else None,
                validation=validation,
            )
        )
    return found


def _store(reader: Any, label: str) -> bytes:
    """The manifest store as the SDK read it (it gives the whole store for a JUMBF reference)."""
    import io

    stream = io.BytesIO()
    try:
        reader.resource_to_stream(f"self#jumbf=/c2pa/{label}/c2pa.signature", stream)
    except sdk().C2paError:
        return b""
    return stream.getvalue()


def _timestamp(validation: Validation) -> str | None:
    """The time-stamp's state (C2PA 2.2 §15.7): trusted, validated but its TSA not trusted, or its failure."""
    if "timeStamp.trusted" in validation.success:
        return "trusted"
    if "timeStamp.validated" in validation.success:
        return "validated (the time-stamp authority is not trusted)"
    problems = [c for c in (*validation.failure, *validation.informational) if c.startswith("timeStamp.")]
    return ", ".join(problems) or None


def _revocation(validation: Validation) -> str | None:
    """The signer's OCSP state: ``signingCredential.ocsp.*`` (C2PA 2.2 §15.2.2)."""
    codes = [c for c in (*validation.failure, *validation.success, *validation.informational) if ".ocsp." in c]
    states = [c.removeprefix("signingCredential.ocsp.") for c in codes]
    return ", ".join("not checked" if c == "skipped" else c for c in states) or None


def _info(reader: Any, trust: TrustSettings, sidecar: str | None, store: bytes | None) -> C2paInfo:
    with reader:
        sdk_state = reader.get_validation_state() or "Invalid"
        report = json.loads(reader.json())
        label = report.get("active_manifest")
        manifests = report.get("manifests") or {}
        if (trust.given or trust.tsa_anchors) and isinstance(label, str):
            store = store if store is not None else _store(reader, label)
    vouched = {m: vouchers(store, m, trust) for m in manifests if isinstance(m, str)} if store else {}
    active = (report.get("manifests") or {}).get(label) or {}
    validation = _validation((report.get("validation_results") or {}).get("activeManifest"))
    if not (validation.success or validation.informational or validation.failure):  # an SDK without results
        validation = Validation(failure=_codes(report.get("validation_status")))
    state = C2paState(sdk_state.lower())
    own = vouched.get(label, Vouchers())
    ingredients = _ingredients(report, label, trust.given, vouched)
    if state is C2paState.TRUSTED and (not trust.given or own.tsa_only):
        state = C2paState.VALID  # never say trusted without anchors given by the user, nor on a TSA anchor alone
    message = None
    # The SDK calls a file only valid when an ingredient's signer is untrusted: the active one may still be.
    signer_trusted = trust.given and not own.tsa_only and TRUSTED_CODE in validation.success
    if state is C2paState.VALID and signer_trusted:
        untrusted = [i.title or "?" for i in ingredients if i.state is C2paState.VALID]
        if untrusted:
            message = f"the signer is trusted; the signer of ingredient {', '.join(untrusted)} is not"
    if not active:
        state = C2paState.INVALID
        message = "the manifest store has no readable active manifest"
    actions, agents = _actions(active)
    record = None
    training_mining: dict[str, str] = {}
    for assertion in active.get("assertions", []):
        data = assertion.get("data") if isinstance(assertion.get("data"), dict) else {}
        if assertion.get("label") == RECORD_LABEL:
            record = data
        elif assertion.get("label") == "cawg.training-mining" and isinstance(data.get("entries"), dict):
            training_mining = {
                str(use): entry["use"]
                for use, entry in data["entries"].items()
                if isinstance(entry, dict) and isinstance(entry.get("use"), str)
            }
    return C2paInfo(
        state=state,
        codes=validation.failure,
        message=message,
        active_manifest=label if active else None,
        claim_version=_claim_version(active),
        validation=validation,
        signer=_signer(active),
        trusted_by=own.signer if signer_trusted else None,
        signed_at=(active.get("signature_info") or {}).get("time"),
        timestamp=_timestamp(validation),
        timestamp_trusted_by=own.timestamp if "timeStamp.trusted" in validation.success else None,
        revocation=_revocation(validation),
        actions=actions,
        digital_source_types=_source_types(report, active),
        software_agents=agents,
        training_mining=training_mining,
        ingredients=ingredients,
        record=record,
        sidecar=sidecar,
    )


def _claim_version(manifest: dict[str, Any]) -> int | None:
    version = manifest.get("claim_version")
    return version if isinstance(version, int) and not isinstance(version, bool) and 0 < version < 100 else None


def _actions(manifest: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """A manifest's actions, and the software agents they name (C2PA 2.2 §18.14.4: v2 by index or inline)."""
    actions: list[dict[str, Any]] = []
    agents: list[dict[str, str]] = []
    for assertion in manifest.get("assertions") or []:
        data = assertion.get("data") if isinstance(assertion, dict) else None
        if (
            not isinstance(assertion, dict)
            or not str(assertion.get("label", "")).startswith("c2pa.actions")
            or not isinstance(data, dict)
        ):
            continue
        found = data.get("softwareAgents")
        listed: list[Any] = found if isinstance(found, list) else []
        for action in data.get("actions") or []:
            if not isinstance(action, dict):
                continue
            actions.append(action)
            agent = action.get("softwareAgent")
            index = action.get("softwareAgentIndex")
            if agent is None and isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(listed):
                agent = listed[index]
            named = _agent(agent)
            if named is not None and named not in agents:
                agents.append(named)
    return actions, agents


def _agent(agent: Any) -> dict[str, str] | None:
    """A generator-info map (v2) or a plain string (v1) as ``{name, version}``."""
    if isinstance(agent, str) and agent.strip():
        return {"name": agent.strip()}
    if isinstance(agent, dict) and isinstance(agent.get("name"), str) and agent["name"].strip():
        version = agent.get("version")
        named = {"name": agent["name"].strip()}
        return named | {"version": version.strip()} if isinstance(version, str) and version.strip() else named
    return None


def _source_types(report: dict[str, Any], active: dict[str, Any]) -> list[str]:
    """The digital source types the active manifest's actions give, else its parent's, and so on up.

    A manifest that records only a metadata edit (``c2pa.edited.metadata``) leaves the content's source
    type to the manifest it was opened from.
    """
    stored = report.get("manifests")
    manifests: dict[str, Any] = stored if isinstance(stored, dict) else {}
    manifest: Any = active
    seen: set[str] = set()
    while isinstance(manifest, dict):
        actions, _ = _actions(manifest)
        found = [
            source_type_from_uri(a["digitalSourceType"]) for a in actions if isinstance(a.get("digitalSourceType"), str)
        ]
        if found:
            return found
        parents = [
            i for i in manifest.get("ingredients") or [] if isinstance(i, dict) and i.get("relationship") == "parentOf"
        ]
        label = parents[0].get("active_manifest") if parents else None
        if not isinstance(label, str) or label in seen:
            return []
        seen.add(label)
        manifest = manifests.get(label)
    return []
