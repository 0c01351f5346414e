"""China's implicit label (GB 45438-2025): written from the record into every carrier, read back, kept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyexiv2
import pytest
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TXXX

from aidisclose import inspect_file, load_record, stamp
from aidisclose.carriers.exiv2 import read_packet
from aidisclose.check import china_label_facts
from aidisclose.chinalabel import LABEL_KEYS, MAX_LABEL_BYTES, TC260_NS
from aidisclose.errors import DisclosureError
from aidisclose.formats import detect
from aidisclose.rebuild import rebuild_record
from aidisclose.stamp import StampAction

from .conftest import ALL_FIXTURES, AUDIO_FIXTURES, EXAMPLE_RECORD, FIXTURES, exiftool_json, run_cli, snapshot

RECORD = load_record(EXAMPLE_RECORD)
OURS = {
    "Label": "1",
    "ContentProducer": "Example AI Inc.; Replica Labs",
    "ProduceID": "SHOT010_V003",
    "ReservedCode1": "",
    "ContentPropagator": "",
    "PropagateID": "",
    "ReservedCode2": "",
}
JPEG = FIXTURES / "images" / "photo.jpg"
MP3 = FIXTURES / "audio" / "tone.mp3"
FLAC_FILE = FIXTURES / "audio" / "tone.flac"
PLATFORM = {"ContentPropagator": "Example Video Platform", "PropagateID": "PV-77", "ReservedCode2": "sig-2"}


def copy(fixture: Path, tmp_path: Path) -> Path:
    target = tmp_path / fixture.name
    shutil.copyfile(fixture, target)
    return target


def label_carriers(path: Path) -> set[str]:
    """Where a stamp of ``path`` puts the label: each carrier it writes that can hold one."""
    store = detect(path).store
    return {f"{c}:{LABEL_KEYS[c]}" for c in store.writable_carriers(path) if c in LABEL_KEYS}


def set_xmp_label(path: Path, text: str) -> None:
    """Put a label in a JPEG's XMP with exiv2 itself, as another tool would."""
    pyexiv2.registerNs(TC260_NS, "TC260")
    with pyexiv2.Image(str(path)) as image:
        image.modify_xmp({"Xmp.TC260.AIGC": text})


@pytest.mark.parametrize("fixture", ALL_FIXTURES, ids=lambda p: p.name)
def test_label_round_trips_through_every_carrier(fixture: Path, tmp_path: Path) -> None:
    path = copy(fixture, tmp_path)
    first = stamp(path, RECORD, in_place=True, china_label=True)
    assert first.action is StampAction.STAMPED
    inspected = inspect_file(path, technical=False)
    label = inspected.provenance.china_label
    assert label is not None
    assert label.fields == OURS
    expected = label_carriers(path)
    assert expected and {r.source for r in label.readings} == expected
    assert all(r.fields == OURS for r in label.readings)
    assert inspected.provenance.conflicts == [] and inspected.provenance.problems == []
    assert inspected.record == RECORD
    before = snapshot(path)
    again = stamp(path, RECORD, in_place=True, china_label=True)  # restamping is idempotent
    assert again.action is StampAction.UNCHANGED
    assert snapshot(path) == before


@pytest.mark.parametrize(
    "fixture",
    [f for f in ALL_FIXTURES if f.suffix in (".jpg", ".png", ".tif", ".webp", ".mp3", ".wav", ".mov", ".m4a")],
    ids=lambda p: p.name,
)
def test_exiftool_reads_the_xmp_label(fixture: Path, tmp_path: Path) -> None:
    assert run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path, "--label", "china").exit_code == 0
    found = exiftool_json(tmp_path / fixture.name, "-G1", "-XMP-TC260:all")
    assert json.loads(found["XMP-TC260:Aigc"]) == OURS


@pytest.mark.parametrize(("fixture", "tag"), [(MP3, "ID3v2_3:UserDefinedText"), (FLAC_FILE, "Vorbis:Aigc")])
def test_exiftool_reads_the_tag_labels(fixture: Path, tag: str, tmp_path: Path) -> None:
    assert run_cli("stamp", fixture, "-r", EXAMPLE_RECORD, "-o", tmp_path, "--label", "china").exit_code == 0
    found = exiftool_json(tmp_path / fixture.name, "-G1", "-a", "-ID3:all", "-Vorbis:all")
    values = found[tag] if isinstance(found[tag], list) else [found[tag]]
    text = next(v for v in values if "Label" in str(v)).removeprefix("(AIGC) ")
    assert json.loads(text) == OURS


def test_a_platforms_propagator_keys_are_kept(tmp_path: Path) -> None:
    path = copy(JPEG, tmp_path)
    set_xmp_label(path, json.dumps({"Label": "", "ContentProducer": "", "ProduceID": "", **PLATFORM, "Extra": "x"}))
    stamp(path, RECORD, in_place=True, china_label=True)
    label = inspect_file(path, technical=False).provenance.china_label
    assert label is not None
    assert label.fields == {**OURS, **PLATFORM}
    with pyexiv2.Image(str(path)) as image:
        assert json.loads(image.read_xmp()["Xmp.TC260.AIGC"])["Extra"] == "x"  # a key of its own, kept


def test_propagator_keys_in_one_carrier_reach_every_carrier(tmp_path: Path) -> None:
    path = copy(MP3, tmp_path)
    tags = ID3(path)
    tags.add(TXXX(encoding=3, desc="aigc", text=[json.dumps({"aigc": {"Label": "1", **PLATFORM}})]))
    tags.save(path)
    stamp(path, RECORD, in_place=True, china_label=True)
    label = inspect_file(path, technical=False).provenance.china_label
    assert label is not None
    assert [r.fields for r in label.readings] == [{**OURS, **PLATFORM}] * 2
    assert [f.desc for f in ID3(path).getall("TXXX") if f.desc.upper() == "AIGC"] == ["AIGC"]  # one, not two


def test_another_producers_label_is_kept_unless_replacing(tmp_path: Path) -> None:
    path = copy(FLAC_FILE, tmp_path)
    audio = FLAC(path)
    theirs = {"Label": "1", "ContentProducer": "001Other", "ProduceID": "G-1"}
    audio["AIGC"] = json.dumps(theirs)
    audio.save()
    kept = stamp(path, RECORD, in_place=True, china_label=True)
    assert any("001Other" in note and "--replace-standard" in note for note in kept.notes)
    label = inspect_file(path, technical=False).provenance.china_label
    assert label is not None and label.fields == {**OURS, **theirs}
    stamp(path, RECORD, in_place=True, china_label=True, replace_standard=True)
    label = inspect_file(path, technical=False).provenance.china_label
    assert label is not None and label.fields == OURS


def test_a_label_an_earlier_stamp_wrote_is_updated(tmp_path: Path) -> None:
    path = copy(FLAC_FILE, tmp_path)
    stamp(path, RECORD, in_place=True, china_label=True)
    renamed = RECORD.model_copy(update={"asset_id": "SHOT010_V004"})
    result = stamp(path, renamed, in_place=True, china_label=True)
    assert not any("China label" in note for note in result.notes)
    label = inspect_file(path, technical=False).provenance.china_label
    assert label is not None and label.fields == {**OURS, "ProduceID": "SHOT010_V004"}


def test_stamping_without_the_option_leaves_a_label_alone(tmp_path: Path) -> None:
    path = copy(JPEG, tmp_path)
    text = json.dumps({"Label": "2", **PLATFORM})
    set_xmp_label(path, text)
    stamp(path, RECORD, in_place=True)
    with pyexiv2.Image(str(path)) as image:
        assert image.read_xmp()["Xmp.TC260.AIGC"] == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "is not JSON"),
        ('["Label", "1"]', "is not a JSON object"),
        ("[" * 5000 + "]" * 5000, "is not JSON"),
        ('{"Label": "' + "9" * (MAX_LABEL_BYTES + 1) + '"}', "KiB; not read"),
        ('{"Label": "9", "ContentProducer": "x"}', "Label is not 1, 2 or 3"),
        ('{"Label": "1", "ContentProducer": {"name": "x"}}', "ContentProducer is not text"),
        ("   ", "is empty"),
    ],
    ids=["broken", "array", "deep", "huge", "label", "object", "blank"],
)
def test_a_hostile_label_is_a_reported_problem(text: str, reason: str, tmp_path: Path) -> None:
    path = copy(JPEG, tmp_path)
    set_xmp_label(path, text)
    inspected = inspect_file(path, technical=False)
    problems = [p for p in inspected.provenance.problems if p.field == "china_label"]
    assert [p.source for p in problems] == ["xmp:Xmp.TC260.AIGC"]
    assert reason in problems[0].reason
    assert len(str(problems[0].value)) < 1000  # a huge value is not repeated back whole
    before = snapshot(path)
    refused = run_cli("stamp", path, "-r", EXAMPLE_RECORD, "--in-place", "--label", "china")
    assert refused.exit_code == 2
    assert "label it already has in xmp:Xmp.TC260.AIGC" in refused.stderr
    assert snapshot(path) == before
    report = run_cli("check", path, "--policy", "china-gb45438", "-f", "json")
    assert report.exit_code == 1  # judged, not crashed: the label is not there to pass
    (checked,) = report.json()["files"]
    assert any(p["field"] == "china_label" for p in checked["problems"])


def test_a_numeric_label_reads_as_its_text() -> None:
    _, provenance = rebuild_record({"vorbis": {"AIGC": ['{"Label": 1, "ContentProducer": "P", "ProduceID": 7}']}})
    assert provenance.china_label is not None
    assert provenance.china_label.fields == {"Label": "1", "ContentProducer": "P", "ProduceID": "7"}
    assert provenance.problems == []


@pytest.mark.parametrize(
    ("text", "fields", "wrong"),
    [
        ('{"Label": 1e400}', {"Label": "inf"}, ["Label is not 1, 2 or 3"]),
        ('{"Label": 1.0, "ProduceID": 1' + "0" * 400 + "}", {"Label": "1", "ProduceID": "1" + "0" * 400}, []),
        ('{"Label": true, "PropagateID": null}', {}, ["Label is not text"]),
    ],
    ids=["infinite", "huge-number", "boolean"],
)
def test_numbers_in_a_label_never_break_reading(text: str, fields: dict[str, str], wrong: list[str]) -> None:
    _, provenance = rebuild_record({"vorbis": {"AIGC": [text]}})
    assert provenance.china_label is not None and provenance.china_label.fields == fields
    assert [p.reason for p in provenance.problems] == wrong


def test_a_packet_binding_another_prefix_to_the_namespace_is_read() -> None:
    packet = (
        b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
        b'xmlns:AIGC="http://www.tc260.org.cn/ns/AIGC/1.0/"><AIGC:AIGC>{&quot;Label&quot;:&quot;1&quot;}'
        b'</AIGC:AIGC></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    assert read_packet(packet, "packet") == {"Xmp.TC260.AIGC": '{"Label":"1"}'}


def test_carriers_that_disagree_are_a_conflict(tmp_path: Path) -> None:
    path = copy(MP3, tmp_path)
    stamp(path, RECORD, in_place=True, china_label=True)
    tags = ID3(path)
    tags.delall("TXXX:AIGC")
    tags.add(TXXX(encoding=3, desc="AIGC", text=[json.dumps({**OURS, "ProduceID": "OTHER"})]))
    tags.save(path)
    conflicts = [c for c in inspect_file(path, technical=False).provenance.conflicts if c.field == "china_label"]
    assert [(c.source, c.other_source) for c in conflicts] == [("xmp:Xmp.TC260.AIGC", "id3:TXXX:AIGC")]


@pytest.mark.parametrize(
    ("changes", "words"),
    [({"ai_used": False}, "does not say AI generated"), ({"asset_id": None}, "no asset_id")],
)
def test_a_record_that_cannot_give_a_label_is_refused(changes: dict[str, Any], words: str, tmp_path: Path) -> None:
    path = copy(AUDIO_FIXTURES[0], tmp_path)
    record = RECORD.model_copy(update=changes)
    before = snapshot(path)
    with pytest.raises(DisclosureError, match=words):
        stamp(path, record, in_place=True, china_label=True)
    assert snapshot(path) == before


def test_producer_falls_back_to_the_production(tmp_path: Path) -> None:
    path = copy(FLAC_FILE, tmp_path)
    record = RECORD.model_copy(
        update={"ai_systems": [s.model_copy(update={"provider": None}) for s in RECORD.ai_systems]}
    )
    stamp(path, record, in_place=True, china_label=True)
    label = inspect_file(path, technical=False).provenance.china_label
    assert label is not None and label.fields["ContentProducer"] == "Example Feature"


def test_the_profile_passes_a_labelled_file_and_fails_an_unlabelled_one(tmp_path: Path) -> None:
    plain, labelled = tmp_path / "plain", tmp_path / "labelled"
    assert run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", plain).exit_code == 0
    assert run_cli("stamp", JPEG, "-r", EXAMPLE_RECORD, "-o", labelled, "--label", "china").exit_code == 0
    failed = run_cli("check", plain / JPEG.name, "--policy", "china-gb45438", "-f", "json")
    assert failed.exit_code == 1
    outcomes = {r["rule"]: r["outcome"] for r in failed.json()["files"][0]["results"]}
    assert outcomes["gb45438.implicit-label-present"] == "fail"
    passed = run_cli("check", labelled / JPEG.name, "--policy", "china-gb45438", "-f", "json")
    assert passed.exit_code == 0
    outcomes = {r["rule"]: r["outcome"] for r in passed.json()["files"][0]["results"]}
    assert outcomes.pop("gb45438.explicit-label-not-checked") == "warn"  # never passed: it cannot be seen here
    assert set(outcomes.values()) == {"pass"}


def test_inspect_shows_each_carriers_label(tmp_path: Path) -> None:
    path = copy(MP3, tmp_path)
    stamp(path, RECORD, in_place=True, china_label=True)
    shown = run_cli("inspect", path)
    assert shown.exit_code == 0
    assert shown.stdout.count("Label: 1 (AI-generated)") == 2
    assert "TC260:AIGC" in shown.stdout and "id3:TXXX:AIGC" in shown.stdout
    assert "ProduceID: SHOT010_V003" in shown.stdout


def test_control_characters_and_lone_surrogates_in_a_label_are_shown_as_data(tmp_path: Path) -> None:
    path = copy(JPEG, tmp_path)
    set_xmp_label(path, '{"Label": "1", "ContentProducer": "\\u001b[31mred\\ud800", "ProduceID": "a\\nb"}')
    text = run_cli("inspect", path)
    assert text.exit_code == 0
    assert "\x1b" not in text.stdout and "\\x1b[31mred" in text.stdout
    report = run_cli("inspect", path, "-f", "json")
    assert report.exit_code == 0, report.stderr
    (found,) = report.json()["files"]
    assert found["provenance"]["china_label"]["fields"]["ContentProducer"] == "\x1b[31mred\ufffd"
    checked = run_cli("check", path, "--policy", "china-gb45438", "-f", "json")
    assert checked.exit_code == 1  # judged (the file does not declare AI use), not crashed
    assert checked.json()["files"][0]["verdict"] == "fail"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"Label": "3", "ContentProducer": "x", "ProduceID": "y", "Label": "1"}', "has the key 'Label' twice"),
        ('{"Label": "1", "ContentProducer": "x", "ProduceID": NaN}', "is not JSON"),
        ('{"Label": "1", "ContentProducer": "x", "ProduceID": -Infinity}', "is not JSON"),
    ],
    ids=["duplicate-key", "nan", "infinity"],
)
def test_a_label_readers_would_read_differently_is_refused(text: str, reason: str) -> None:
    """A reader that takes the first ``Label`` sees 3; one that takes the last sees 1: neither is trusted."""
    _, provenance = rebuild_record({"vorbis": {"AIGC": [text]}})
    assert provenance.china_label is None
    assert len(provenance.problems) == 1 and reason in provenance.problems[0].reason


def test_a_byte_order_mark_before_the_label_is_read() -> None:
    _, provenance = rebuild_record(
        {"vorbis": {"AIGC": ['\ufeff{"Label": "1", "ContentProducer": "P", "ProduceID": "7"}']}}
    )
    assert provenance.china_label is not None and provenance.china_label.fields["Label"] == "1"


@pytest.mark.parametrize(
    "blank", ["\u200b", "\x01\x7f", "\u2028 \t", "\ufeff"], ids=["zero-width", "controls", "separators", "bom"]
)
def test_a_producer_of_invisible_characters_does_not_count(blank: str) -> None:
    label = json.dumps({"Label": "1", "ContentProducer": blank, "ProduceID": blank})
    _, provenance = rebuild_record({"vorbis": {"AIGC": [label]}})
    facts = china_label_facts(provenance)
    assert facts["present"] is True
    assert "content_producer" not in facts and "produce_id" not in facts


def test_a_second_label_in_one_carrier_is_read_and_its_propagator_kept(tmp_path: Path) -> None:
    path = copy(MP3, tmp_path)
    tags = ID3(path)
    tags.add(TXXX(encoding=3, desc="AIGC", text=[json.dumps({"Label": "1", "ContentProducer": "", "ProduceID": ""})]))
    tags.add(TXXX(encoding=3, desc="aigc", text=[json.dumps({"Label": "", **PLATFORM})]))
    tags.save(path)
    label = inspect_file(path, technical=False).provenance.china_label
    assert label is not None
    assert [r.source for r in label.readings] == ["id3:TXXX:AIGC", "id3:TXXX:AIGC#2"]
    stamp(path, RECORD, in_place=True, china_label=True)
    (frame,) = [f for f in ID3(path).getall("TXXX") if f.desc.upper() == "AIGC"]
    assert json.loads(frame.text[0]) == {**OURS, **PLATFORM}
    again = stamp(path, RECORD, in_place=True, china_label=True)
    assert again.action is StampAction.UNCHANGED


def test_a_second_vorbis_label_is_merged_into_one(tmp_path: Path) -> None:
    path = copy(FLAC_FILE, tmp_path)
    audio = FLAC(path)
    audio["AIGC"] = [json.dumps({"Label": "1"}), json.dumps({"Label": "", **PLATFORM})]
    audio.save()
    stamp(path, RECORD, in_place=True, china_label=True)
    assert [json.loads(v) for v in FLAC(path)["AIGC"]] == [{**OURS, **PLATFORM}]


def test_carriers_that_disagree_fail_the_profile(tmp_path: Path) -> None:
    path = copy(MP3, tmp_path)
    stamp(path, RECORD, in_place=True, china_label=True)
    tags = ID3(path)
    tags.delall("TXXX:AIGC")
    tags.add(TXXX(encoding=3, desc="AIGC", text=[json.dumps({**OURS, "Label": "3", "ContentProducer": "Other"})]))
    tags.save(path)
    report = run_cli("check", path, "--policy", "china-gb45438", "-f", "json")
    assert report.exit_code == 1
    outcomes = {r["rule"]: r["outcome"] for r in report.json()["files"][0]["results"]}
    assert outcomes["gb45438.labels-agree"] == "fail"


def test_language_alternatives_of_the_label_are_each_read_and_merged(tmp_path: Path) -> None:
    path = copy(JPEG, tmp_path)
    pyexiv2.registerNs(TC260_NS, "TC260")
    alternatives = {
        'lang="x-default"': json.dumps({"Label": "1"}),
        'lang="zh-CN"': json.dumps({"Label": "", **PLATFORM}),
    }
    with pyexiv2.Image(str(path)) as image:
        image.modify_xmp({"Xmp.TC260.AIGC": alternatives})
    label = inspect_file(path, technical=False).provenance.china_label
    assert label is not None
    assert [r.source for r in label.readings] == ["xmp:Xmp.TC260.AIGC", "xmp:Xmp.TC260.AIGC#2"]
    stamp(path, RECORD, in_place=True, china_label=True)
    with pyexiv2.Image(str(path)) as image:
        assert json.loads(image.read_xmp()["Xmp.TC260.AIGC"]) == {**OURS, **PLATFORM}  # one simple property now


def test_two_labels_with_different_propagators_are_named_in_a_note(tmp_path: Path) -> None:
    path = copy(FLAC_FILE, tmp_path)
    audio = FLAC(path)
    audio["AIGC"] = [
        json.dumps({"Label": "", **PLATFORM, "a key": "1"}),
        json.dumps({"Label": "", "ContentPropagator": "Other Site", "a key": "2"}),  # key names are data too
    ]
    audio.save()
    result = stamp(path, RECORD, in_place=True, china_label=True)
    assert any("'Example Video Platform'" in n and "'Other Site'" in n for n in result.notes), result.notes
    assert [json.loads(v) for v in FLAC(path)["AIGC"]] == [{**OURS, **PLATFORM, "a key": "1"}]
