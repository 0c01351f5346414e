"""Reading and validating a file's manifest store through the SDK, under a header pre-scan."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

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
    #: The AI systems the actions name, in order (v2 ``softwareAgentIndex`` resolved, v1 strings as names).
    software_agents: list[dict[str, str]] = []
    ingredients: list[dict[str, Any]] = []
    record: dict[str, Any] | None = None
    sidecar: str | None = None


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
    actions, agents = _actions(active)
    record = None
    for assertion in active.get("assertions", []):
        if assertion.get("label") == RECORD_LABEL:
            record = assertion.get("data")
    signature = active.get("signature_info") or {}
    return C2paInfo(
        state=state,
        codes=codes,
        active_manifest=report.get("active_manifest"),
        signer={k: str(signature[k]) for k in ("issuer", "common_name", "alg") if signature.get(k)},
        signed_at=signature.get("time"),
        actions=actions,
        digital_source_types=_source_types(report, active),
        software_agents=agents,
        ingredients=[
            {k: i.get(k) for k in ("title", "relationship", "active_manifest") if i.get(k)}
            for i in active.get("ingredients", [])
        ],
        record=record,
        sidecar=sidecar,
    )


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
