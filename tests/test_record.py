"""The record model: vocabularies, loading, errors that name the field and line, overrides, schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aidisclose import DisclosureError, load_record, stamp
from aidisclose.record import RECORD_TEMPLATE, DisclosureRecord, validate_record
from aidisclose.vocab import AI_SOURCE_TYPES, IPTC_DST_BASE, RETIRED_SOURCE_TYPES, DigitalSourceType

from .conftest import EXAMPLE_RECORD, IMAGE_FIXTURES, run_cli


def test_vocabulary_has_every_current_iptc_term_with_full_uri() -> None:
    current = [t for t in DigitalSourceType if t not in RETIRED_SOURCE_TYPES]
    assert len(current) == 18
    assert DigitalSourceType.trainedAlgorithmicMedia.uri == IPTC_DST_BASE + "trainedAlgorithmicMedia"
    assert DigitalSourceType.compositeSynthetic.implies_ai
    assert not DigitalSourceType.digitalCapture.implies_ai
    assert len(AI_SOURCE_TYPES) == 7


def test_template_loads_and_matches_its_own_comments(tmp_path: Path) -> None:
    path = tmp_path / "record.toml"
    assert run_cli("init", path).exit_code == 0
    assert path.read_text() == RECORD_TEMPLATE
    record = load_record(path)
    assert record.ai_used is True and record.ai_systems[0].name == "ExampleGen"


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "record.toml"
    path.write_text("keep me")
    result = run_cli("init", path)
    assert result.exit_code == 2 and "--force" in result.stderr
    assert path.read_text() == "keep me"


def test_json_record_loads_same_as_toml(tmp_path: Path) -> None:
    toml_record = load_record(EXAMPLE_RECORD)
    path = tmp_path / "record.json"
    path.write_text(toml_record.model_dump_json())
    assert load_record(path) == toml_record


@pytest.mark.parametrize(
    ("text", "field", "line"),
    [
        ('title = "x"\ndeliverable = "finished"\n', "deliverable", 2),
        ('title = "x"\n\n[[ai_systems]]\nname = "A"\n\n[[ai_systems]]\nversion = "2"\n', "ai_systems.1.name", 6),
        ("generated_at = 2026-10-01T10:00:00\n", "generated_at", 1),
        ('title = "x"\ntitel = "typo"\n', "titel", 2),
        ('[likeness.consent]\nstatus = "granted"\n', "likeness", 1),
    ],
)
def test_toml_errors_name_field_and_line(tmp_path: Path, text: str, field: str, line: int) -> None:
    path = tmp_path / "r.toml"
    path.write_text(text)
    with pytest.raises(DisclosureError) as err:
        load_record(path)
    message = err.value.one_line()
    assert str(path) in message and f"field {field}" in message and f"(line {line})" in message
    assert "\n" not in message


def test_json_syntax_error_names_line(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{\n "title": "x",\n "ai_used": tru\n}\n')
    with pytest.raises(DisclosureError, match="line 3"):
        load_record(path)


def test_control_characters_are_refused() -> None:
    with pytest.raises(DisclosureError, match="U\\+0007"):
        validate_record({"title": "bell\x07"})
    assert validate_record({"title": "two\r\nlines"}).title == "two\nlines"


def test_numbers_in_text_fields_are_read_as_text() -> None:
    record = validate_record({"ai_systems": [{"name": "Gen", "version": 4.2}], "asset_id": 17})
    assert record.ai_systems[0].version == "4.2" and record.asset_id == "17"


def test_newer_schema_version_is_refused_clearly() -> None:
    with pytest.raises(DisclosureError, match="schema_version 2 is not supported"):
        validate_record({"schema_version": 2})


def test_retired_source_type_is_refused_on_stamp(tmp_path: Path) -> None:
    record = validate_record({"digital_source_type": "digitalArt"})
    with pytest.raises(DisclosureError, match=r"retired.*digitalCreation"):
        stamp(IMAGE_FIXTURES[0], record, output_dir=tmp_path)
    assert not list(tmp_path.iterdir())


def test_set_overrides_nested_fields_and_lists() -> None:
    record = load_record(
        EXAMPLE_RECORD,
        [
            "human_review.status=pending",
            "ai_used=false",
            "ai_systems.2.name=ThirdGen",
            "title=Plain text, not TOML",
            "qc.date=2026-11-01T00:00:00Z",
        ],
    )
    assert record.human_review is not None and record.human_review.status == "pending"
    assert record.ai_used is False
    assert record.ai_systems[2].name == "ThirdGen"
    assert record.title == "Plain text, not TOML"
    assert record.qc is not None and record.qc.date is not None and record.qc.date.year == 2026


def test_set_without_record_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "stamp", IMAGE_FIXTURES[0], "--set", "ai_used=true", "-s", "digital_source_type=algorithmicMedia", "-o", out
    )
    assert result.exit_code == 0, result.stderr
    (report,) = run_cli("inspect", out / IMAGE_FIXTURES[0].name, "-f", "json").json()["files"]
    assert report["record"] == {"schema_version": 1, "ai_used": True, "digital_source_type": "algorithmicMedia"}


def test_bad_override_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("stamp", IMAGE_FIXTURES[0], "--set", "no-equals-sign", "-o", tmp_path)
    assert result.exit_code == 2 and "field=value" in result.stderr


def test_every_problem_is_told_at_once_in_line_order_with_where_it_was_set(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('genre = "opera"\ndeliverable = "finished"\n\n[human_review]\nstatus = "approved"\n')
    with pytest.raises(DisclosureError) as err:
        load_record(path, ["human_review.status=done", "titel=typo"])
    assert err.value.reason == "4 problems in the record" and err.value.subject == str(path)
    assert err.value.problems == (
        "field genre (line 1): 'opera' is not one of 'fiction', 'documentary', 'news', 'reality', 'animation', "
        "'advertising' or 'other'",
        "field deliverable (line 2): 'finished' is not one of 'final', 'temp', 'marketing' or 'internal'",
        "field human_review.status (--set human_review.status=done): 'done' is not one of 'approved', 'rejected' "
        "or 'pending'",
        "field titel (--set titel=typo): unknown field; see `aidisclose schema` for the field names",
    )
    assert "\n" not in err.value.one_line() and err.value.problems[3] in err.value.one_line()


def test_a_bad_set_value_is_blamed_on_the_set_option_not_on_a_line_of_the_record() -> None:
    with pytest.raises(DisclosureError) as err:
        load_record(EXAMPLE_RECORD, ["human_review.status=done"])
    assert err.value.reason.startswith("field human_review.status (--set human_review.status=done): 'done'")
    assert "line" not in err.value.one_line()


def test_a_set_list_item_missing_its_required_field_is_blamed_on_the_set_that_made_it() -> None:
    with pytest.raises(DisclosureError) as err:
        load_record(EXAMPLE_RECORD, ["ai_systems.2.version=1.0"])
    assert err.value.reason == "field ai_systems.2.name (--set ai_systems.2.version=1.0): Field required"


def test_stamp_prints_the_file_then_one_line_per_problem(tmp_path: Path) -> None:
    record = tmp_path / "r.toml"
    record.write_text('title = "x"\ndeliverable = "finished"\n')
    result = run_cli("stamp", IMAGE_FIXTURES[0], "-r", record, "--set", "training_mining=maybe", "-o", tmp_path / "o")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"aidisclose: error: {IMAGE_FIXTURES[0]}: 2 problems in the record",
        f"  field deliverable ({record} line 2): 'finished' is not one of 'final', 'temp', 'marketing' or 'internal'",
        "  field training_mining (--set training_mining=maybe): 'maybe' is not one of 'allowed', 'not-allowed' or "
        "'constrained'",
    ]
    assert not (tmp_path / "o").exists()


def _consented(date: Any) -> dict[str, Any]:
    return {"person": "P", "kind": "voice", "consent": {"status": "granted", "date": date}}


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        ({"ai_used": "yes"}, "ai_used", "must be true or false, not 'yes'"),
        ({"ai_used": 1}, "ai_used", "must be true or false, not 1"),
        ({"synthetic_content": {"audience_disclosure": "false"}}, "synthetic_content.audience_disclosure", "'false'"),
        ({"likeness": [{"person": "P", "kind": "voice", "deceased": 0}]}, "likeness.0.deceased", "not 0"),
        ({"schema_version": True}, "schema_version", "must be a number"),
        ({"generated_at": "2026-05-01"}, "generated_at", "needs a date, a time and a UTC offset"),
        ({"generated_at": dt.date(2026, 5, 1)}, "generated_at", "needs a date, a time and a UTC offset"),
        ({"generated_at": 1767225600}, "generated_at", "needs a date, a time and a UTC offset"),
        ({"qc": {"date": "2026-05-01T10:00:00"}}, "qc.date", "needs a UTC offset"),
        ({"likeness": [_consented(1767225600)]}, "likeness.0.consent.date", "needs a date without a time"),
        ({"likeness": [_consented("2026-09-01T10:00Z")]}, "likeness.0.consent.date", "needs a date without a time"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_type_is_refused_never_coerced(data: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(DisclosureError) as err:
        validate_record(data)
    assert err.value.reason.startswith(f"field {field}: ") and reason in err.value.reason


def test_dates_and_moments_are_taken_where_the_field_is_one() -> None:
    record = validate_record(
        {
            "generated_at": "2026-10-01T10:00:00+02:00",
            "likeness": [_consented("2026-09-01")],
        }
    )
    assert record.generated_at == dt.datetime(2026, 10, 1, 8, tzinfo=dt.UTC)
    assert record.likeness[0].consent is not None and record.likeness[0].consent.date == dt.date(2026, 9, 1)


@pytest.mark.parametrize("given", ["yes", "True", "1", "on"])
def test_set_takes_only_true_or_false_for_a_yes_no_field(given: str) -> None:
    with pytest.raises(DisclosureError, match=f"field ai_used \\(--set ai_used={given}\\): must be true or false"):
        load_record(EXAMPLE_RECORD, [f"ai_used={given}"])
    assert load_record(EXAMPLE_RECORD, ["ai_used=false"]).ai_used is False


def test_set_keeps_text_as_written() -> None:
    record = load_record(EXAMPLE_RECORD, ["ai_systems.0.version=4.10", "asset_id=0x1F", "title='quoted'"])
    assert record.ai_systems[0].version == "4.10" and record.asset_id == "0x1F" and record.title == "quoted"


def test_a_json_record_with_a_key_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text('{"ai_used": true, "ai_used": false}')
    with pytest.raises(DisclosureError, match="'ai_used' appears twice"):
        load_record(path)


def test_schema_command_prints_a_valid_json_schema() -> None:
    result = run_cli("schema")
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].startswith("https://aidisclose.org/schema/record/")
    example = load_record(EXAMPLE_RECORD).model_dump(mode="json")
    jsonschema.validate(example, schema)
    assert "trainedAlgorithmicMedia" in json.dumps(schema)


def test_record_is_frozen() -> None:
    record = DisclosureRecord()
    with pytest.raises(Exception, match="frozen"):
        record.title = "x"  # type: ignore[misc]


def test_a_field_name_with_control_characters_is_shown_escaped() -> None:
    with pytest.raises(DisclosureError) as err:
        load_record(EXAMPLE_RECORD, ["ti\x1b[2Jtle=x", "ai_used=yes"])
    assert "\x1b" not in err.value.one_line() and "ti\\x1b[2Jtle" in err.value.one_line()


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ("ai_systems.9.name=X", "index 9 is past the end of ai_systems, which has 2 item(s)"),
        ("ai_systems.name=X", "ai_systems is a list: address its items by number"),
        ("human_review.0=X", "human_review is a table: name its fields"),
        ("title.x=X", "title is a single value, not a table or a list"),
    ],
)
def test_a_set_that_does_not_fit_the_record_is_one_of_its_problems(item: str, reason: str) -> None:
    with pytest.raises(DisclosureError) as err:
        load_record(EXAMPLE_RECORD, [item, "ai_used=yes"])
    first, second = err.value.problems
    assert first.startswith(f"field {item.partition('=')[0]} (--set {item}): ") and first.endswith(reason)
    assert second == "field ai_used (--set ai_used=yes): must be true or false, not 'yes'"


@pytest.mark.parametrize("command", [["init"], ["policy", "init", "genai-production"]])
def test_templates_refuse_a_missing_folder_and_a_dangling_link(tmp_path: Path, command: list[str]) -> None:
    missing = run_cli(*command, tmp_path / "nowhere" / "out.toml")
    assert missing.exit_code == 2 and "Traceback" not in missing.stderr
    assert "does not exist" in missing.stderr and len(missing.stderr.strip().splitlines()) == 1
    link = tmp_path / "link.toml"
    victim = tmp_path / "victim.toml"
    link.symlink_to(victim)  # dangling: writing through it would create a file the user did not name
    result = run_cli(*command, link)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert not victim.exists() and link.is_symlink()
    assert run_cli(*command, link, "--force").exit_code == 0
    assert not link.is_symlink() and not victim.exists()  # --force replaces the link, not its target
