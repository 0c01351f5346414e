"""`aidisclose check`: golden deliverables, exit codes, and every report format."""

from __future__ import annotations

import csv
import io
import json
import pickle
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from aidisclose import load_record, stamp
from aidisclose.check import check_file
from aidisclose.policy import load_policy
from aidisclose.record import validate_record
from aidisclose.report import FORMATTERS, ReportFormat

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

JPEG = FIXTURES / "images" / "photo.jpg"
DELIVERABLES = [JPEG, FIXTURES / "audio" / "tone.wav", FIXTURES / "video" / "clip.mov"]


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    """A delivery folder: compliant stamped files, one unstamped file, a stray text file."""
    folder = tmp_path / "delivery"
    for media in DELIVERABLES:
        stamp(media, load_record(EXAMPLE_RECORD), output_dir=folder)
    shutil.copyfile(FIXTURES / "images" / "overlay.png", folder / "unstamped.png")
    (folder / "README.txt").write_text("not media\n")
    return folder


def failing_rules(report: dict[str, object], name: str) -> set[str]:
    (file,) = [f for f in report["files"] if Path(f["path"]).name == name]  # type: ignore[index, union-attr]
    return {r["rule"] for r in file["results"] if r["outcome"] == "fail"}


def test_compliant_deliverables_pass(tmp_path: Path) -> None:
    for media in DELIVERABLES:
        stamp(media, load_record(EXAMPLE_RECORD), output_dir=tmp_path)
    result = run_cli("check", tmp_path)
    assert result.exit_code == 0, result.stdout
    assert result.stdout.count("PASS") == len(DELIVERABLES)


def test_removed_approval_fails_with_exit_1(tmp_path: Path) -> None:
    data = load_record(EXAMPLE_RECORD).to_json_dict()
    del data["approval_reference"]
    stamp(JPEG, validate_record(data), output_dir=tmp_path)
    result = run_cli("check", tmp_path / JPEG.name, "--format", "json")
    assert result.exit_code == 1
    assert failing_rules(result.json(), JPEG.name) == {
        "oversight.final-approval-reference",
        "oversight.likeness-approval",
    }
    text = run_cli("check", tmp_path / JPEG.name).stdout
    assert "FAIL" in text and "expected a value; found missing" in text


def test_unstamped_file_fails_with_every_missing_rule(tmp_path: Path) -> None:
    result = run_cli("check", FIXTURES / "images" / "overlay.png", "--format", "json")
    assert result.exit_code == 1
    (file,) = result.json()["files"]
    missing = {r["rule"] for r in file["results"] if r["actual"] == "missing" and r["outcome"] in ("fail", "warn")}
    assert missing == {"attribution.ai-used-declared", "attribution.training-mining"}


def test_strict_turns_warnings_into_failures(tmp_path: Path) -> None:
    data = load_record(EXAMPLE_RECORD).to_json_dict()
    del data["training_mining"]
    stamp(JPEG, validate_record(data), output_dir=tmp_path)
    assert run_cli("check", tmp_path).exit_code == 0
    assert run_cli("check", tmp_path, "--strict").exit_code == 1


def test_unreadable_file_exit_2_and_still_a_row(tmp_path: Path, delivery: Path) -> None:
    broken = delivery / "broken.jpg"
    broken.write_bytes(JPEG.read_bytes()[:500])
    result = run_cli("check", delivery, broken, "--format", "json")
    assert result.exit_code == 2
    verdicts = {Path(f["path"]).name: f["verdict"] for f in result.json()["files"]}
    assert verdicts["broken.jpg"] == "error" and verdicts["README.txt"] == "skipped"
    assert verdicts["unstamped.png"] == "fail" and verdicts["photo.jpg"] == "pass"


def test_walk_skips_text_files_without_failing(delivery: Path) -> None:
    (delivery / "unstamped.png").unlink()
    assert run_cli("check", delivery).exit_code == 0


def test_a_result_crosses_to_the_parent_process_unchanged(delivery: Path) -> None:
    # Worker processes send each FileCheck as its JSON; the parent must get back an equal model.
    policies = [load_policy(name) for name in ("genai-production", "eu-ai-act-art50")]
    for path in sorted(delivery.iterdir()):
        result = check_file(path, policies, named=False)
        copy = pickle.loads(pickle.dumps(result))
        assert copy == result and type(copy.verdict) is type(result.verdict)
        assert [type(r.outcome) for r in copy.results] == [type(r.outcome) for r in result.results]


def test_every_format_has_a_formatter() -> None:
    assert set(FORMATTERS) == set(ReportFormat)


def test_json_report_validates_against_its_schema(delivery: Path) -> None:
    schema = json.loads(run_cli("schema", "--report").stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    report = run_cli("check", delivery, "--policy", "genai-production", "--policy", "ca-sb942", "-f", "json").json()
    jsonschema.validate(report, schema)
    assert {p["name"] for p in report["policies"]} == {"genai-production", "ca-sb942"}
    assert all(len(p["sha256"]) == 64 for p in report["policies"])
    assert report["tool_version"] and report["started_at"].endswith("Z")
    assert all(len(f["sha256"]) == 64 for f in report["files"] if f["verdict"] != "skipped")


def test_csv_has_one_row_per_file_and_rule(delivery: Path) -> None:
    report = run_cli("check", delivery, "-f", "json").json()
    rows = list(csv.DictReader(io.StringIO(run_cli("check", delivery, "-f", "csv").stdout)))
    expected = sum(max(len(f["results"]), 1) for f in report["files"])
    assert len(rows) == expected
    assert {r["policy_sha256"] for r in rows if r["rule"]} == {report["policies"][0]["sha256"]}
    assert {(r["file"], r["rule"]) for r in rows if r["rule"]} == {
        (f["path"], r["rule"]) for f in report["files"] for r in f["results"]
    }


def test_junit_parses_with_the_right_counts(delivery: Path) -> None:
    report = run_cli("check", delivery, "-f", "json").json()
    root = ET.fromstring(run_cli("check", delivery, "-f", "junit").stdout)
    results = [r for f in report["files"] for r in f["results"]]
    reads = sum(1 for f in report["files"] if not f["results"])
    assert int(root.get("tests")) == len(results) + reads
    assert int(root.get("failures")) == sum(r["outcome"] == "fail" for r in results)
    assert int(root.get("skipped")) == sum(r["outcome"] == "n/a" for r in results) + sum(
        f["verdict"] == "skipped" for f in report["files"]
    )
    assert len(root.findall("testsuite")) == len(report["files"])


def test_report_to_file(delivery: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = run_cli("check", delivery, "-f", "json", "-o", out)
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(out.read_text())["summary"]["files"] == 5


def test_html_report_renders_in_chromium(delivery: Path, tmp_path: Path) -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is not installed; scripts/install-system-deps.sh installs Debian's chromium")
    page = tmp_path / "report.html"
    assert run_cli("check", delivery, "-f", "html", "-o", page).exit_code == 1
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]  # fmt: skip
    dom = subprocess.run([chromium, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    rendered = dom.stdout  # the DOM after Chromium parsed and laid out the page
    assert rendered.count('<section class="file') == 5
    assert 'data-verdict="fail"' in rendered and 'data-verdict="pass"' in rendered
    assert "QC sign-off" in rendered and "data:image/" in rendered
    shot = tmp_path / "report.png"
    subprocess.run(
        [chromium, *flags, f"--screenshot={shot}", "--window-size=1200,1400", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from PIL import Image

    with Image.open(shot) as image:
        assert image.size == (1200, 1400)
        assert len(image.convert("L").getcolors(maxcolors=1 << 16) or []) > 50  # not a blank page
