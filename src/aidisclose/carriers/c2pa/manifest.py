"""The manifest aidisclose signs: actions, training and mining, and the (optionally redacted) record.

The manifest carries ``c2pa.actions`` (written as ``c2pa.actions.v2``) with the
digital source type and every AI system as a software agent,
``cawg.training-mining`` from the record, and ``org.aidisclose.record``: the
disclosure record (by default without prompts and the names of people). A
manifest already in the file is kept as the new one's ``parentOf`` ingredient.

C2PA 2.2 §10.2.2: assertions in ``created_assertions`` are attributed to the
signer, ``gathered_assertions`` are not; c2pa-rs gathers everything but the
hard binding unless told, so each of ours is marked ``created``.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from ..._version import __version__
from ...vocab import TrainingMining, source_type_uri

RECORD_LABEL = "org.aidisclose.record"
#: Digital source types of content made from scratch (action c2pa.created); others edit captured media.
_CREATED = {
    "trainedAlgorithmicMedia",
    "algorithmicMedia",
    "digitalCreation",
    "dataDrivenMedia",
    "trainedAlgorithmicData",
}
_TRAINING = ("cawg.ai_generative_training", "cawg.ai_training")
_ALL_USES = (*_TRAINING, "cawg.ai_inference", "cawg.data_mining")
#: CAWG training-and-data-mining use per entry, as the PLUS DataMining term written for the same choice
#: (``vocab.TRAINING_MINING_TO_PLUS``) says it: DMI-ALLOWED allows every use; DMI-PROHIBITED-AIMLTRAINING
#: forbids AI/ML training and says nothing of inference or other mining (entries left out: unspecified);
#: DMI-PROHIBITED-SEECONSTRAINT forbids mining except as the constraints (usage terms) allow.
CAWG_USES: dict[TrainingMining, dict[str, str]] = {
    TrainingMining.allowed: dict.fromkeys(_ALL_USES, "allowed"),
    TrainingMining.not_allowed: dict.fromkeys(_TRAINING, "notAllowed"),
    TrainingMining.constrained: dict.fromkeys(_ALL_USES, "constrained"),
}
#: What the SDK shall leave out of the manifest unless asked: the default a privacy review picks.
REDACTABLE = frozenset({"prompts", "persons"})
#: Temporary label pairing the c2pa.opened action with the parent ingredient (the SDK replaces it).
PARENT_LABEL = "aidisclose-parent"
#: Fields whose values make the AI disclosure; a re-stamp that keeps them changes only metadata.
_DISCLOSURE_FIELDS = ("ai_used", "digital_source_type", "ai_systems")


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
        for approval in data.get("approvals", []):
            approval.pop("approver", None)
    return data


def needs_parent(record: dict[str, Any], source_has_manifest: bool) -> bool:
    """Whether the stamped file is an edit of the original (which then becomes the parentOf ingredient).

    Only content generated from nothing, with no earlier manifest, is a plain creation.
    """
    return source_has_manifest or record.get("digital_source_type") not in _CREATED


def discloses_the_same(signed_record: dict[str, Any] | None, record: dict[str, Any]) -> bool:
    """Whether a record signed earlier already makes this record's AI disclosure (source type, AI systems)."""
    if signed_record is None:
        return False
    return all(signed_record.get(name) == record.get(name) for name in _DISCLOSURE_FIELDS)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _actions(record: dict[str, Any], parent: bool, metadata_only: bool) -> dict[str, Any]:
    """The ``c2pa.actions.v2`` data (C2PA 2.2 §18.14.4).

    Each AI system is listed once in ``softwareAgents`` and named by its action's ``softwareAgentIndex``;
    the description sits on the action itself (§18.14.4.7), not in ``parameters`` as in v1. A re-stamp
    over a manifest that already discloses the same AI use records ``c2pa.edited.metadata`` only.
    """
    now = _now()
    actions: list[dict[str, Any]] = []
    if parent:
        actions.append({"action": "c2pa.opened", "when": now, "parameters": {"ingredientIds": [PARENT_LABEL]}})
    if metadata_only:
        actions.append({"action": "c2pa.edited.metadata", "when": now})
        return {"actions": actions}
    source_type = record.get("digital_source_type")
    systems = record.get("ai_systems") or []
    data: dict[str, Any] = {}
    if systems:
        data["softwareAgents"] = [{k: s[k] for k in ("name", "version") if s.get(k)} for s in systems]
    for index in range(max(len(systems), 1)):
        action: dict[str, Any] = {"action": "c2pa.edited" if parent or index else "c2pa.created"}
        action["when"] = record.get("generated_at") or now
        if source_type:
            action["digitalSourceType"] = source_type_uri(source_type)
        if systems:
            action["softwareAgentIndex"] = index
        description = record.get("usage_description") if index == 0 else systems[index].get("purpose")
        if description:
            action["description"] = description
        actions.append(action)
    return {**data, "actions": actions}


def _training_mining(record: dict[str, Any]) -> dict[str, Any]:
    """``cawg.training-mining``: each use as the record's choice means it, in step with PLUS DataMining."""
    entries: dict[str, Any] = {}
    for label, use in CAWG_USES[TrainingMining(record["training_mining"])].items():
        entry: dict[str, Any] = {"use": use}
        if use == "constrained" and record.get("usage_terms"):
            entry["constraint_info"] = record["usage_terms"]
        entries[label] = entry
    return {"entries": entries}


def build_manifest(
    record: dict[str, Any],
    title: str,
    redact: frozenset[str],
    parent: bool,
    metadata_only: bool = False,
) -> dict[str, Any]:
    """The manifest definition: actions, training and mining, and the (redacted) record, all signer-attributed.

    ``metadata_only``: the parent's manifest holds and already discloses the same AI use.
    """
    # §10.2.2: created_assertions shall hold the hard binding and the actions; ours are all made here.
    assertions: list[dict[str, Any]] = [
        {"label": "c2pa.actions", "data": _actions(record, parent, metadata_only and parent), "created": True}
    ]
    if record.get("training_mining"):
        assertions.append({"label": "cawg.training-mining", "data": _training_mining(record), "created": True})
    assertions.append({"label": RECORD_LABEL, "data": redacted(record, redact), "created": True})
    return {
        "claim_generator_info": [{"name": "aidisclose", "version": __version__}],
        "title": title,
        "assertions": assertions,
    }
