"""China's implicit label (GB 45438-2025): the ``AIGC`` JSON object, in every carrier a format has.

GB 45438-2025 (《网络安全技术 人工智能生成合成内容标识方法》, mandatory, in force 1 September 2025)
asks AI services to put an *implicit* label in a generated file's metadata, besides the *explicit*
one people see or hear. The label is one JSON object (the standard's appendix E) with seven keys:

- ``Label``: ``"1"`` AI-generated or synthesized, ``"2"`` possibly, ``"3"`` suspected;
- ``ContentProducer``, ``ProduceID``, ``ReservedCode1``: the generating service (its name or its
  code under TC260's service provider coding rules, 网安秘字 [2025] 29号), its id for this content,
  and a field it may use for an integrity check;
- ``ContentPropagator``, ``PropagateID``, ``ReservedCode2``: the same for a platform that spreads it.

Where it goes, as the TC260 practice guide TC260-PG-20258A (《网络安全标准实践指南——人工智能生成合成
内容标识 文件元数据隐式标识》, https://www.tc260.org.cn/front/postDetail.html?id=20250828165129) and
the implementers read and write it:

- XMP: namespace ``http://www.tc260.org.cn/ns/AIGC/1.0/``, prefix ``TC260``, simple property
  ``AIGC`` holding the JSON as text (``<TC260:AIGC>{"Label":"1",...}</TC260:AIGC>``): the cnTC260
  library (PyPI ``cntc260``) and files from Chinese generators (Doubao) carry exactly this; so
  JPEG, PNG, WebP, TIFF, WAV/AVI (``_PMX``), MP3/AIFF (``PRIV:XMP``), MP4/MOV (XMP box) and sidecars;
- ID3: a ``TXXX`` frame described ``AIGC``; Vorbis comments (FLAC, Ogg, Opus): ``AIGC``;
  MP4/M4A/MOV item list: the freeform atom ``----:com.apple.iTunes:AIGC``.

Every implementer writes ``Label`` as a string (``"1"``) and all seven keys, empty ones as ``""``;
a number (``1``) is read as its text. Some audio tools write ``{"aigc": {...}}`` under a
lower-case ``aigc``: read as the object inside. One writes WAV labels as a RIFF chunk of its own
(``AIGC``): not read or written here; WAV gets the XMP form. Doubao also writes PNGs' label as a
``tEXt`` chunk ``AIGC`` (raw JSON): not read either.

A label several readers would read differently is refused: a key twice (``{"Label":"3","Label":"1"}``:
Python's json takes the last, others the first), ``NaN``/``Infinity`` (not JSON). Every label a carrier
holds is read (two ``TXXX`` frames ``AIGC``/``aigc``, repeated Vorbis comments, an XMP array or
language alternatives), so labels that disagree are a conflict, never one silently chosen.

A stamp fills the producer's keys from the record (see :func:`intended_label`) and keeps what
others put there: a platform's propagator keys, ``ReservedCode1``, keys of its own, and (unless
``--replace-standard``) a producer label that names someone else.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .carriers.base import Carrier, CarrierChanges, CarrierValues, Stored, first_text
from .carriers.ilst import ITUNES_AIGC
from .carriers.tags import AIGC_TAG
from .carriers.xmp import TC260_NS as TC260_NS  # the namespace, pinned where exiv2 is set up
from .carriers.xmp import TC260_PREFIX
from .errors import DisclosureError
from .record import DisclosureRecord

#: The one key that holds the label in each carrier.
LABEL_KEYS: dict[Carrier, str] = {
    Carrier.XMP: f"Xmp.{TC260_PREFIX}.AIGC",
    Carrier.ID3: f"TXXX:{AIGC_TAG}",
    Carrier.VORBIS: AIGC_TAG,
    Carrier.MP4_TAGS: ITUNES_AIGC,
}
FIELDS = ("Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2")
#: What the producer of the content says: written from the record.
PRODUCER_FIELDS = ("Label", "ContentProducer", "ProduceID")
LABEL_MEANINGS = {"1": "AI-generated", "2": "possibly AI-generated", "3": "suspected AI-generated"}
#: A real label is ~200 bytes; anything over this is refused unread.
MAX_LABEL_BYTES = 16 * 1024
AI_GENERATED = "1"


def parse_label(raw: Stored) -> tuple[dict[str, Any] | None, str]:
    """The label object a raw value holds, or None and why not (for a problem report)."""
    text = first_text(raw)
    if text is None or not text.strip():
        return None, "is empty"
    if len(text.encode("utf-8", "surrogatepass")) > MAX_LABEL_BYTES:
        return None, f"is over {MAX_LABEL_BYTES // 1024} KiB; not read"
    try:
        value = _whole_text(
            json.loads(text.removeprefix("\ufeff"), object_pairs_hook=_once, parse_constant=_no_constant)
        )
    except _Ambiguous as exc:
        return None, str(exc)
    except (ValueError, RecursionError):
        return None, "is not JSON"
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if str(key).lower() == "aigc" and isinstance(inner, dict):
            value = inner
    if not isinstance(value, dict):
        return None, "is not a JSON object"
    return value, ""


class _Ambiguous(ValueError):
    """A label readers would read differently: a key twice (one reader takes the first, another the last)."""


def _once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys each appear once: ``{"Label":"3","Label":"1"}`` is refused, not read as 1."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _Ambiguous(f"has the key {key!r} twice (readers disagree on which counts); not read")
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (RFC 8259): such a label is refused, never read as the text "nan"."""
    raise ValueError(name)


def has_text(value: str) -> bool:
    """Whether ``value`` holds something a person can read: not only spaces, controls or invisible format marks."""
    return any(unicodedata.category(c)[0] not in "CZ" for c in value)


def _whole_text(value: Any) -> Any:
    """``value`` with lone surrogates (JSON ``"\\ud800"``) as U+FFFD, so every text can be shown and written."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_whole_text(v) for v in value]
    if isinstance(value, dict):
        return {_whole_text(k): _whole_text(v) for k, v in value.items()}
    return value


def label_fields(label: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The seven keys as text (a number as its digits), and what is wrong with any of them."""
    fields: dict[str, str] = {}
    wrong: list[str] = []
    for name in FIELDS:
        value = label.get(name)
        if value is None:
            continue
        if isinstance(value, float):  # 1.0 as 1; inf and nan as their names
            value = str(int(value)) if value.is_integer() else str(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # never through float: a 400-digit number would overflow it
        if not isinstance(value, str):
            wrong.append(f"{name} is not text")
            continue
        fields[name] = value.strip() if name == "Label" else value
    if fields.get("Label") and fields["Label"] not in LABEL_MEANINGS:  # empty: not said (a platform's own label)
        wrong.append("Label is not 1, 2 or 3")
    return fields, wrong


def stored_labels(stored: CarrierValues) -> Iterable[tuple[str, Stored]]:
    """(source label, raw value) of every label a carrier holds, in carrier order.

    A carrier holding several (a second Vorbis ``AIGC`` comment, ID3 ``TXXX`` frames described
    ``AIGC`` and ``aigc``, an XMP array or language alternatives) gives each, the second as
    ``SOURCE#2``: none is silently ignored, whether in reading (they may disagree) or in stamping
    (its keys are merged, not dropped).
    """
    for carrier, key in LABEL_KEYS.items():
        raw = stored.get(carrier, {}).get(key)
        if isinstance(raw, dict):  # an rdf:Alt: x-default first, then every other language's
            default = first_text(raw)
            others = [v for k, v in raw.items() if "x-default" not in k]
            raw = others if default is None else [default, *others]
        if isinstance(raw, list):
            for n, item in enumerate(raw):
                yield f"{carrier}:{key}" + (f"#{n + 1}" if n else ""), item
        elif raw is not None:
            yield f"{carrier}:{key}", raw


# -- writing -------------------------------------------------------------------------------------


def intended_label(record: DisclosureRecord, subject: str | Path) -> dict[str, str]:
    """The producer's keys a record gives, or DisclosureError naming what it lacks.

    - ``Label``: ``"1"`` (AI-generated) when ``ai_used`` is true or ``digital_source_type`` is an AI
      type; a record that says no AI was used, or does not say, gets no label: GB 45438 labels are for
      AI-generated and synthesized content, and 2 and 3 are a platform's guesses, not a producer's;
    - ``ContentProducer``: the providers of ``ai_systems`` (``; ``-joined, in order), the services that
      generated the content; without any, ``production`` (content generated in house);
    - ``ProduceID``: ``asset_id``.
    """
    source_type = record.digital_source_type
    if record.ai_used is False or not (record.ai_used or (source_type is not None and source_type.implies_ai)):
        raise DisclosureError(
            subject,
            "--label china: the record does not say AI generated this content (ai_used), and GB 45438's "
            "implicit label is only for AI-generated or synthesized content",
            "set ai_used = true, or stamp without --label china",
        )
    providers = list(dict.fromkeys(s.provider for s in record.ai_systems if s.provider))
    producer = "; ".join(providers) or record.production
    if not producer:
        raise DisclosureError(
            subject,
            "--label china: the record names no ContentProducer (no ai_systems provider and no production)",
            "set ai_systems[].provider or production",
        )
    if not record.asset_id:
        raise DisclosureError(subject, "--label china: the record has no asset_id for ProduceID", "set asset_id")
    return {"Label": AI_GENERATED, "ContentProducer": producer, "ProduceID": record.asset_id}


def previous_label(record: DisclosureRecord) -> dict[str, str] | None:
    """The producer's keys an earlier stamp of ``record`` wrote, or None if it could not have written one."""
    try:
        return intended_label(record, "")
    except DisclosureError:
        return None


def label_text(label: Mapping[str, Any]) -> str:
    """The label as implementers write it: the seven keys first, in order, then any others; compact JSON."""
    ordered = {name: label.get(name, "") for name in FIELDS}
    ordered.update({k: v for k, v in label.items() if k not in ordered})
    return json.dumps(ordered, ensure_ascii=False, separators=(",", ":"))


def label_changes(
    intended: Mapping[str, str],
    current: CarrierValues,
    carriers: Iterable[str],
    subject: str | Path,
    replace: bool = False,
    previous: Mapping[str, str] | None = None,
) -> tuple[CarrierChanges, list[str]]:
    """The writes that put the label in ``carriers`` (only keys whose text changes), and notes.

    The label written is the same in every carrier: the first label found (in carrier order), with
    keys others filled and this one lacks taken from the other carriers, and the producer's keys
    from ``intended``. A label that names another producer is kept (with a note) unless ``replace``;
    one an earlier stamp wrote (it holds what ``previous``, the file's record before, gives) is updated.
    A label that cannot be read is refused: a stamp never overwrites what it cannot tell apart.
    """
    wanted = [Carrier(c) for c in carriers if c in set(LABEL_KEYS)]
    found: list[dict[str, Any]] = []
    for source, raw in stored_labels({c: current.get(c, {}) for c in wanted}):
        label, why = parse_label(raw)
        wrong = label_fields(label)[1] if label is not None else []
        if label is None or wrong:
            reason = why or "; ".join(wrong)
            raise DisclosureError(
                subject,
                f"--label china: the label it already has in {source} {reason}",
                "fix or remove that label, or stamp without --label china",
            )
        found.append(label)
    merged: dict[str, Any] = dict(found[0]) if found else {}
    for other in found[1:]:
        for key, value in other.items():
            if merged.get(key) in (None, "") and value not in (None, ""):
                merged[key] = value
    notes: list[str] = []
    dropped = {
        (str(key), str(value))
        for other in found[1:]
        for key, value in other.items()
        if key not in PRODUCER_FIELDS and value not in (None, "") and merged.get(key) != value
    }
    if dropped:  # two platforms' keys disagree: the first carrier's are written, the others named here
        kept = ", ".join(f"{k} {merged.get(k)!r}" for k in sorted({k for k, _ in dropped}))
        notes.append(
            f"its China labels disagree; kept {kept} and replaced {', '.join(f'{k} {v!r}' for k, v in sorted(dropped))}"
        )
    theirs = {k: label_fields(merged)[0].get(k, "") for k in PRODUCER_FIELDS}
    ours_before = previous is not None and all(theirs[k] in ("", previous.get(k)) for k in PRODUCER_FIELDS)
    if any(theirs[k] and theirs[k] != intended[k] for k in PRODUCER_FIELDS) and not (replace or ours_before):
        notes.append(
            f"its China label names producer {theirs['ContentProducer']!r} (ProduceID {theirs['ProduceID']!r}, "
            f"Label {theirs['Label']!r}); kept: pass --replace-standard to replace it"
        )
    else:
        merged.update(intended)
    text = label_text(merged)
    changes: CarrierChanges = {}
    for carrier in wanted:
        key = LABEL_KEYS[carrier]
        held = current.get(carrier, {}).get(key)
        if held == text or held == [text]:  # one label, this one (a second one is rewritten away)
            continue
        changes[carrier] = {key: text if carrier is Carrier.XMP else [text]}
    return changes, notes
