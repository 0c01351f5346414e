"""The manifest aidisclose signs: actions, training and mining, and the (optionally redacted) record.

The manifest carries ``c2pa.actions`` (written as ``c2pa.actions.v2``) with the
IPTC digital source type and the AI system as software agent,
``cawg.training-mining`` from the record, and ``org.aidisclose.record``: the
whole disclosure record (optionally with personal data left out). A manifest
already in the file is kept as the new one's ``parentOf`` ingredient.
"""

from __future__ import annotations

import json
from typing import Any

from ..._version import __version__
from ...vocab import IPTC_DST_BASE, TrainingMining

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
REDACTABLE = frozenset({"prompts", "persons"})
#: Temporary label pairing the c2pa.opened action with the parent ingredient (the SDK replaces it).
PARENT_LABEL = "aidisclose-parent"


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
