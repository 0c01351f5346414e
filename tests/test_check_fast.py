"""What checking a folder fast must not change: values read once per run are the same every time,
independent copies for each file, and a result that crosses from a worker writes the same report."""

from __future__ import annotations

import json
import pickle
from functools import partial
from pathlib import Path

import pytest
from pydantic import ValidationError

from aidisclose import load_record, stamp
from aidisclose.batch import CHUNK_FILES, _chunks, imap_in_order
from aidisclose.carriers import exiv2
from aidisclose.check import Verdict, check_file
from aidisclose.display import model_json
from aidisclose.errors import DisclosureError
from aidisclose.formats import detect
from aidisclose.policy import load_policy
from aidisclose.rebuild import (
    _COMPOSITES,
    _FIELDS,
    _REMEMBERED_MAX_CHARS,
    _validate_composite,
    _validate_scalar,
    _validate_value,
    rebuild_record,
)

from .conftest import EXAMPLE_RECORD, FIXTURES
from .hostile import PACKETS, REBINDS_DC

ATTACKS = {**PACKETS, "rebinds-dc": REBINDS_DC}  # the last is read (and must not re-point dc for later reads)

STAMPED_KINDS = ["images/photo.jpg", "audio/tone.wav", "audio/tone.mp3", "audio/tone.m4a", "video/clip.mov"]


@pytest.fixture(scope="module")
def stamped(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    out = tmp_path_factory.mktemp("stamped")
    record = load_record(EXAMPLE_RECORD)
    return [stamp(FIXTURES / kind, record, output_dir=out).destination for kind in STAMPED_KINDS]


def test_a_packet_read_again_gives_the_same_values_and_a_copy_of_its_own(stamped: list[Path]) -> None:
    mov = stamped[-1]
    exiv2._PACKETS.clear()
    first = detect(mov).store.read(mov)["xmp"]
    assert len(exiv2._PACKETS) == 1  # remembered
    first_copy = json.loads(json.dumps(first))
    for value in first.values():  # a caller that changes what it got changes nothing of the next read
        if isinstance(value, list):
            value.append("changed")
        elif isinstance(value, dict):
            value["changed"] = "changed"
    first["Xmp.dc.format"] = "changed"
    again = detect(mov).store.read(mov)["xmp"]
    assert again == first_copy
    exiv2._PACKETS.clear()
    assert detect(mov).store.read(mov)["xmp"] == first_copy  # what a fresh parse says


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_hostile_packet_reads_the_same_every_time_and_a_refused_one_is_not_kept(attack: str) -> None:
    exiv2._PACKETS.clear()
    outcomes = []
    for _ in range(2):
        try:
            outcomes.append(exiv2.read_packet(ATTACKS[attack], "hostile.xmp"))
        except DisclosureError as err:
            outcomes.append(err.one_line())
    assert outcomes[0] == outcomes[1]
    assert (ATTACKS[attack] in exiv2._PACKETS) is isinstance(outcomes[0], dict)


def test_a_remembered_field_value_is_the_validated_one_and_new_each_time() -> None:
    systems = [{"name": "ExampleGen", "version": "4.2"}, {"name": "CrowdClone"}]
    _COMPOSITES.clear()
    typed, plain = _validate_composite("ai_systems", systems)
    assert (typed, plain) == _validate_value("ai_systems", systems)
    plain.append({"name": "changed"})
    typed.append("changed")
    again_typed, again_plain = _validate_composite("ai_systems", systems)
    assert (again_typed, again_plain) == _validate_value("ai_systems", systems)
    # true is not 1: a value the record rejects is not taken for one it accepted
    _validate_composite("synthetic_content", {"audience_disclosure": True})
    with pytest.raises(ValidationError):
        _validate_composite("synthetic_content", {"audience_disclosure": 1})


def test_rebuilding_the_same_carriers_twice_gives_the_same_record(stamped: list[Path]) -> None:
    for path in stamped:
        stored = detect(path).store.read(path)
        _COMPOSITES.clear()
        fresh = rebuild_record(stored)
        assert rebuild_record(stored) == fresh  # from what was remembered
        assert fresh[0].ai_systems and fresh[0].creators  # lists and tables were read


def test_a_result_from_a_worker_writes_the_report_entry_it_had(stamped: list[Path], tmp_path: Path) -> None:
    policies = [load_policy("genai-production")]
    plain = tmp_path / "plain.png"
    plain.write_bytes((FIXTURES / "images" / "overlay.png").read_bytes())
    for path in [*stamped, plain]:
        result = check_file(path, policies)
        copy = pickle.loads(pickle.dumps(result))
        assert copy.report_json() == model_json(result, indent=2) == model_json(copy, indent=2)
        # a copy that changes what the report says is written anew, never from the text it came with
        changed = copy.model_copy(update={"verdict": Verdict.error, "reason": "changed"})
        assert json.loads(changed.report_json())["verdict"] == "error"
        assert changed.report_json() == changed.model_dump_json(indent=2)
        assert copy.model_copy(update={"thumbnail": "data:"}).report_json() == copy.report_json()


def test_chunks_shrink_near_the_end_of_a_list_and_keep_every_item_in_order() -> None:
    items = list(range(1000))
    chunks = list(_chunks(items, lambda _item: 100, jobs=2))
    assert [i for chunk in chunks for i in chunk] == items
    assert max(len(c) for c in chunks) == CHUNK_FILES and len(chunks[-1]) == 1  # the last ones spread
    assert [len(c) for c in chunks] == sorted((len(c) for c in chunks), reverse=True)
    # an iterator (its length unknown) travels in whole chunks, as without jobs
    assert [len(c) for c in _chunks(iter(items), lambda _item: 100, jobs=2)] == [
        len(c) for c in _chunks(items, lambda _item: 100)
    ]


def test_a_pool_runs_its_work_on_every_item_in_order() -> None:
    # the work reaches each worker once, when it starts: every chunk, big or small, is worked by it
    assert list(imap_in_order(partial(pow, 2), range(100), jobs=2)) == [2**i for i in range(100)]


def test_a_field_remembered_gives_the_same_value_conflicts_and_problems(stamped: list[Path]) -> None:
    wav = stamped[1]
    stored = detect(wav).store.read(wav)
    xmp = stored["xmp"]
    xmp["Xmp.dc.creator"] = ["Someone Else"]  # disagrees with the record's creators: a conflict
    xmp["Xmp.aidisclose.AiUsed"] = "perhaps"  # not a boolean: a problem, the other carrier's value used
    _FIELDS.clear()
    first = rebuild_record(stored)
    assert len(_FIELDS) > 10  # remembered
    again = rebuild_record(stored)
    assert again == first
    record, provenance = first
    assert {c.field for c in provenance.conflicts} >= {"creators"}
    assert [p.field for p in provenance.problems] == ["ai_used"] and record.ai_used is None
    assert "ai_used" not in provenance.sources
    creators = list(first[0].creators)
    again[0].creators.append("changed")  # type: ignore[arg-type]  # one file's record is its own
    assert first[0].creators == creators and rebuild_record(stored)[0].creators == creators


def test_a_large_value_is_not_remembered() -> None:
    """A folder whose files each hold a large value of their own must not fill memory through the caches:
    a long text, a large list or table, and a list of many (even empty) items are validated, not kept."""
    _FIELDS.clear()
    _COMPOSITES.clear()
    _validate_scalar.cache_clear()
    long = "x" * (_REMEMBERED_MAX_CHARS + 1)
    rebuild_record({"xmp": {"Xmp.aidisclose.Title": long}})
    assert not _FIELDS and _validate_scalar.cache_info().currsize == 0
    system = {"name": long, "provider": "p", "version": "1"}
    assert _validate_composite("ai_systems", [system])[0][0].name == long
    assert not _COMPOSITES
    rebuild_record({"xmp": {"Xmp.dc.creator": [""] * (_REMEMBERED_MAX_CHARS + 1)}})
    assert not _FIELDS
    rebuild_record({"xmp": {"Xmp.aidisclose.Title": "a title"}})
    assert len(_FIELDS) == 1 and _validate_scalar.cache_info().currsize == 1
