"""Inspect a file: read every carrier and the C2PA manifest store, never writing, and rebuild its record."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._version import __version__
from .batch import Item, Outcome, attempt
from .carriers.base import file_sha256
from .carriers.c2pa.manifest import REDACTABLE, redacted
from .carriers.c2pa.reading import HASH_MISMATCH, C2paInfo, C2paState, read_manifest
from .carriers.c2pa.trust import TrustSettings
from .errors import os_errors_reported
from .formats import detect
from .rebuild import Conflict, Provenance, rebuild_record
from .record import DisclosureRecord
from .technical import technical_facts
from .vocab import AI_SOURCE_TYPES


class InspectResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    path: str
    format: str
    size: int
    sha256: str | None = Field(description="SHA-256 of the whole file; null when --digest none skipped it")
    record: DisclosureRecord
    provenance: Provenance
    c2pa: C2paInfo = C2paInfo()
    tool_version: str = __version__

    def to_json_dict(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"record"})
        data["record"] = self.record.to_json_dict()
        return data


@os_errors_reported("reading")
def inspect_file(
    path: str | Path,
    technical: bool = True,
    trust_anchors: bytes | None = None,
    fetch_remote: bool = False,
    trust: TrustSettings | None = None,
    sha256_of: Callable[[Path], str | None] = file_sha256,
    manifest_stream: Callable[[], AbstractContextManager[IO[bytes]]] | None = None,
) -> InspectResult:
    """Read every carrier of ``path`` (never writing to it) and rebuild its record.

    ``technical`` adds MediaInfo facts (container, duration, codecs) to the
    provenance; ``trust`` (anchors, allowed list, EKU configuration, TSA and CAWG
    anchors) lets a C2PA signer be reported as trusted, ``trust_anchors`` (PEM)
    being short for ``TrustSettings(anchors=...)``; a remote manifest is fetched
    only with ``fetch_remote``. ``sha256_of`` takes the file's digest (``skip_digest`` takes none);
    ``manifest_stream`` opens the bytes the C2PA SDK validates, where they are not ``path``'s own
    (an object in storage, read through its mirror).
    """
    if trust is None and trust_anchors:
        trust = TrustSettings(anchors=trust_anchors)
    path = Path(path)
    info = detect(path)
    stored = info.store.read(path)
    record, provenance = rebuild_record(stored)
    extra: dict[str, Any] = {}
    sidecar = info.store.sidecar_of(path)
    if sidecar is not None and sidecar.exists():
        extra["sidecar"] = str(sidecar)
    if technical:
        extra["technical"] = technical_facts(path, info.format.value)
    c2pa = read_manifest(path, info.manifest_place, trust, fetch_remote, manifest_stream)
    if c2pa.state is not C2paState.NONE:
        c2pa = _explain(c2pa, record, provenance)
        extra["conflicts"] = [*provenance.conflicts, *_manifest_conflicts(c2pa, record, provenance)]
    if c2pa.state.holds:
        record, provenance = _with_manifest(record, provenance, c2pa)
    return InspectResult(
        path=str(path),
        format=info.format.value,
        size=path.stat().st_size,
        sha256=sha256_of(path),
        record=record,
        provenance=provenance.model_copy(update=extra),
        c2pa=c2pa,
    )


_TRAINING_USES = ("cawg.ai_generative_training", "cawg.ai_training")
_CAWG_PERMISSION = {"allowed": "allowed", "notAllowed": "not-allowed", "constrained": "constrained"}


def manifest_values(c2pa: C2paInfo) -> dict[str, tuple[str, Any]]:
    """What a valid manifest says of the record's fields, each with the assertion it came from.

    The digital source type its actions give (the last one named, C2PA 2.2 §18.14.4), whether AI was used
    as that type implies and, if so, the AI systems its actions name as software agents; training
    permission from ``cawg.training-mining``.
    """
    found: dict[str, tuple[str, Any]] = {}
    if c2pa.digital_source_types:
        source_type = c2pa.digital_source_types[-1]
        found["digital_source_type"] = ("c2pa:c2pa.actions", source_type)
        if source_type in AI_SOURCE_TYPES:  # then the software agents its actions name are the AI systems
            found["ai_used"] = ("c2pa:c2pa.actions", True)
            if c2pa.software_agents:
                systems = list({s["name"]: s for s in c2pa.software_agents}.values())
                found["ai_systems"] = ("c2pa:c2pa.actions", systems)
    for use in _TRAINING_USES:
        permission = _CAWG_PERMISSION.get(c2pa.training_mining.get(use, ""))
        if permission is not None:
            found["training_mining"] = ("c2pa:cawg.training-mining", permission)
            break
    return found


def _with_manifest(
    record: DisclosureRecord, provenance: Provenance, c2pa: C2paInfo
) -> tuple[DisclosureRecord, Provenance]:
    """The record with what a valid manifest says filled in where no carrier said it, C2PA named as the source."""
    values = record.to_json_dict()
    sources = dict(provenance.sources)
    for name, (source, value) in manifest_values(c2pa).items():
        if name in values:
            continue
        try:
            candidate = DisclosureRecord.model_validate({**values, name: value})
        except ValidationError:
            continue  # a value our record cannot hold is left to the manifest view
        values, sources[name] = candidate.to_json_dict(), source
    if sources == provenance.sources:
        return record, provenance
    carriers = sorted({*provenance.carriers, "c2pa"})
    return DisclosureRecord.model_validate(values), provenance.model_copy(
        update={"sources": sources, "carriers": carriers}
    )


def _manifest_conflicts(c2pa: C2paInfo, record: DisclosureRecord, provenance: Provenance) -> list[Conflict]:
    """The manifest's digital source type against the one the metadata carriers hold."""
    ours = record.digital_source_type
    if ours is None or not c2pa.digital_source_types or ours.value in c2pa.digital_source_types:
        return []
    return [
        Conflict(
            field="digital_source_type",
            source=provenance.sources.get("digital_source_type", ""),
            value=ours.value,
            other_source="c2pa:c2pa.actions",
            other_value=c2pa.digital_source_types[-1],
        )
    ]


def _explain(c2pa: C2paInfo, record: DisclosureRecord, provenance: Provenance) -> C2paInfo:
    """Say what a hash mismatch means: metadata edited after signing, or the content itself.

    Metadata was edited when the carriers no longer hold the signed record, or no longer agree with each
    other (another tool changed a standard property, say ``dc:rights``, beside our namespace). A manifest
    that holds no record of ours over a file aidisclose stamped was broken by that stamp (a metadata
    change); the hash alone cannot tell whether the content changed as well.
    """
    if c2pa.state is not C2paState.INVALID or not any(code in HASH_MISMATCH for code in c2pa.codes) or c2pa.message:
        return c2pa
    everything = frozenset(REDACTABLE)
    signed = redacted(c2pa.record or {}, everything)
    current = redacted(record.to_json_dict(), everything)
    if c2pa.record is not None and (signed != current or provenance.conflicts):
        message = (
            "metadata was changed after signing: the carriers no longer hold the signed record; stamp and sign again"
        )
    elif c2pa.record is None and provenance.stamped_by_aidisclose:
        message = (
            "metadata was changed after signing: aidisclose stamped the file after this manifest was signed, without "
            "signing again (the hash cannot tell whether the content changed too)"
        )
    else:
        message = "the content changed after signing: the signed hash no longer matches the file"
    return c2pa.model_copy(update={"message": message})


def skip_digest(path: Path) -> None:
    """For ``--digest none``: the whole file is not read for its digest (the report says so)."""
    return None


def inspect_item(
    item: Item,
    trust: TrustSettings | None = None,
    technical: bool = True,
    fetch_remote: bool = False,
    sha256_of: Callable[[Path], str | None] = file_sha256,
    manifest_stream: Callable[[], AbstractContextManager[IO[bytes]]] | None = None,
) -> Outcome[InspectResult]:
    """One file of a batch, for process pools: never raises."""
    work = partial(
        inspect_file,
        technical=technical,
        trust=trust,
        fetch_remote=fetch_remote,
        sha256_of=sha256_of,
        manifest_stream=manifest_stream,
    )
    return attempt(work, item)
