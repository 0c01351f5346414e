"""Fail closed: nothing unchecked ever exits 0, and a verdict says what it found.

A file named as media that is not, a folder that cannot be listed or is
deleted while it is walked, a path over PATH_MAX: each is an error of
``check``, ``stamp``, ``inspect`` and ``credits`` (exit 2). What is skipped
(plainly not media, hidden) is listed with its reason in every report, and a
delivery where nothing was checked is not a pass.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyexiv2
import pytest

from aidisclose import DisclosureRecord, load_record, stamp
from aidisclose.batch import walk
from aidisclose.carriers.xmp import own_key
from aidisclose.check import check_paths
from aidisclose.inspect import inspect_item

from .conftest import FIXTURES, ROOT, CliResult, run_cli

PHOTO = FIXTURES / "images" / "photo.jpg"
CLIP = FIXTURES / "video" / "clip.mp4"
PATH_MAX = os.pathconf("/", "PC_PATH_MAX")


def text_as_mp4(folder: Path) -> Path:
    path = folder / "shot020.mp4"
    path.write_text("this is not a video\n")
    return path


def mp4_with_zeroed_header(folder: Path) -> Path:
    path = folder / "shot030.mp4"
    path.write_bytes(bytes(8) + CLIP.read_bytes()[8:])
    return path


def fake_exr(folder: Path) -> Path:
    path = folder / "plate040.exr"
    path.write_bytes(b"P6\n64 48\n255\n" + bytes(64 * 48 * 3))  # a PPM, named as OpenEXR
    return path


# Each command on a folder, as JSON: (arguments, the paths it reports as errors).
def _check_errors(data: Any) -> list[str]:
    return [f["path"] for f in data["files"] if f["verdict"] == "error"]


def _inspect_errors(data: Any) -> list[str]:
    return [e["path"] for e in data["errors"]]


def _credits_errors(data: Any) -> list[str]:
    return [line.split(": ", 1)[0] for line in data["unreadable"]]


def _stamp_errors(data: Any) -> list[str]:
    return [e["path"] for e in data["errors"]]


COMMANDS: dict[str, tuple[Callable[[Path, Path], list[str]], Callable[[Any], list[str]]]] = {
    "check": (lambda folder, _out: ["check", str(folder), "-f", "json"], _check_errors),
    "stamp": (
        lambda folder, out: ["stamp", str(folder), "-s", "ai_used=true", "-o", str(out), "-f", "json"],
        _stamp_errors,
    ),
    "inspect": (lambda folder, _out: ["inspect", str(folder), "-f", "json"], _inspect_errors),
    "credits": (lambda folder, _out: ["credits", str(folder), "-f", "json"], _credits_errors),
}


def run_command(
    command: str, folder: Path, out: Path, run: Callable[..., CliResult] = run_cli
) -> tuple[int, list[str]]:
    """Exit code and the paths reported as errors, from the command's JSON."""
    arguments, errors = COMMANDS[command]
    result = run(*arguments(folder, out))
    return result.exit_code, errors(result.json())


def delivery(tmp_path: Path) -> Path:
    folder = tmp_path / "delivery"
    folder.mkdir()
    shutil.copyfile(PHOTO, folder / "shot010.jpg")
    return folder


# -- media names that are not media ----------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("make", [text_as_mp4, mp4_with_zeroed_header, fake_exr], ids=lambda f: f.__name__)
def test_a_file_named_as_media_that_is_not_is_an_error(
    tmp_path: Path, command: str, make: Callable[[Path], Path]
) -> None:
    folder = delivery(tmp_path)
    bad = make(folder)
    (folder / "README").write_text("delivery notes\n")  # plainly not media, by name and content: skipped
    (folder / "notes.txt").write_text("shot010: final\n")
    code, errors = run_command(command, folder, tmp_path / "out")
    assert code == 2
    assert errors == [str(bad)]


# -- folders the walk cannot read ------------------------------------------------------------------

_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _drop_file_access_override() -> None:
    """In a child about to exec: as root, give up reading what permissions forbid (bounding set)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            os._exit(99)


def run_cli_bound_by_permissions(*args: str | Path) -> CliResult:
    """The CLI in a child process that folder permissions bind, even when the tests run as root."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", "from aidisclose.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
        preexec_fn=_drop_file_access_override if os.geteuid() == 0 else None,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unlistable_folder_is_an_error(tmp_path: Path, command: str) -> None:
    folder = delivery(tmp_path)
    locked = folder / "reel2"
    locked.mkdir()
    shutil.copyfile(PHOTO, locked / "shot050.jpg")
    locked.chmod(0)
    try:
        code, errors = run_command(command, folder, tmp_path / "out", run_cli_bound_by_permissions)
    finally:
        locked.chmod(0o755)
    assert code == 2
    assert errors == [str(locked)]


def deep_folder(root: Path) -> None:
    """Folders nested past PATH_MAX, a photo at the bottom (made relative to each parent, as only that works)."""
    name_length = 250
    depth = PATH_MAX // (name_length + 1) + 2
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for level in range(depth):
            name = chr(ord("a") + level % 26) * name_length
            os.mkdir(name, dir_fd=fd)
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        with open(os.open("shot060.jpg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "wb") as handle:
            handle.write(PHOTO.read_bytes())
    finally:
        os.close(fd)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_path_over_path_max_is_an_error(tmp_path: Path, command: str) -> None:
    folder = delivery(tmp_path)
    deep_folder(folder)
    code, errors = run_command(command, folder, tmp_path / "out")
    assert code == 2
    assert len(errors) == 1
    assert len(os.fsencode(errors[0])) >= PATH_MAX  # the first folder too deep to be named


def test_a_folder_deleted_while_walked_is_an_error(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    for reel in ("reel1", "reel2"):
        (folder / reel).mkdir(parents=True)
        shutil.copyfile(PHOTO, folder / reel / "shot010.jpg")
    steps = walk([folder])
    first = next(steps)  # reel1 is walked; reel2 is listed, waiting
    assert first.path == folder / "reel1" / "shot010.jpg"
    shutil.rmtree(folder / "reel2")  # the delivery changes under the walk
    rest = list(steps)
    assert [item.path for item in rest] == [folder / "reel2"]
    report = check_paths([], items=[first, *rest])
    assert report.exit_code == 2
    assert [(Path(f.path).name, f.verdict.value) for f in report.files] == [("shot010.jpg", "fail"), ("reel2", "error")]
    assert "reel2" in (report.files[1].reason or "")
    assert inspect_item(rest[0]).error is not None


# -- skipped and hidden entries are listed, and counted --------------------------------------------


def delivery_with_skips(tmp_path: Path) -> Path:
    folder = delivery(tmp_path)
    (folder / "README.txt").write_text("delivery notes\n")
    shutil.copyfile(PHOTO, folder / ".shot010.jpg")  # hidden: the walk leaves it out, but says so
    return folder


@pytest.mark.parametrize("fmt", ["text", "json", "csv", "junit", "html"])
def test_check_lists_and_counts_skipped_and_hidden_entries_in_every_format(tmp_path: Path, fmt: str) -> None:
    folder = delivery_with_skips(tmp_path)
    out = tmp_path / f"report.{fmt}"
    result = run_cli("check", folder, "-f", fmt, "-o", out)
    assert result.exit_code == 1  # shot010.jpg fails genai-production
    report = out.read_text(encoding="utf-8")
    for name in ("README.txt", ".shot010.jpg"):
        assert str(folder / name) in report
    assert f"{folder / '.shot010.jpg'}: hidden" in report
    assert "content is not" in report  # README.txt's reason
    assert "2 skipped" in result.stderr  # the summary counts them
    if fmt == "json":
        assert json.loads(report)["summary"]["skipped"] == 2
    if fmt == "junit":
        assert ET.fromstring(report).get("skipped") is not None
        cases = ET.fromstring(report).findall(".//testsuite[@name='" + str(folder / ".shot010.jpg") + "']//skipped")
        assert cases and cases[0].get("message") == f"{folder / '.shot010.jpg'}: hidden"


def test_stamp_lists_skipped_and_hidden_entries(tmp_path: Path) -> None:
    folder = delivery_with_skips(tmp_path)
    text = run_cli("stamp", folder, "-s", "ai_used=true", "-o", tmp_path / "text")
    assert text.exit_code == 0
    assert f"skipped {folder / '.shot010.jpg'}: hidden" in text.stdout
    assert f"skipped {folder / 'README.txt'}: " in text.stdout
    assert "2 skipped" in text.stderr
    data = run_cli("stamp", folder, "-s", "ai_used=true", "-o", tmp_path / "json", "-f", "json").json()
    assert sorted(Path(s["path"]).name for s in data["skipped"]) == [".shot010.jpg", "README.txt"]


def test_inspect_lists_skipped_and_hidden_entries(tmp_path: Path) -> None:
    folder = delivery_with_skips(tmp_path)
    text = run_cli("inspect", folder)
    assert text.exit_code == 0
    assert f"skipped {folder / '.shot010.jpg'}: hidden" in text.stdout
    assert f"skipped {folder / 'README.txt'}: " in text.stdout
    data = run_cli("inspect", folder, "-f", "json").json()
    assert sorted(Path(s["path"]).name for s in data["skipped"]) == [".shot010.jpg", "README.txt"]


def test_credits_list_skipped_and_hidden_entries(tmp_path: Path) -> None:
    folder = delivery_with_skips(tmp_path)
    hidden, readme = f"{folder / '.shot010.jpg'}: hidden", f"{folder / 'README.txt'}: "
    text = run_cli("credits", folder)
    assert text.exit_code == 0
    assert hidden in text.stdout and readme in text.stdout
    assert sorted(run_cli("credits", folder, "-f", "json").json()["skipped"])[0] == hidden
    csv_rows = run_cli("credits", folder, "-f", "csv").stdout.splitlines()
    assert any(row.startswith("skipped,") and hidden in row for row in csv_rows)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_delivery_where_every_file_was_skipped_is_not_a_pass(tmp_path: Path, command: str) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    (folder / "README.txt").write_text("delivery notes\n")
    shutil.copyfile(PHOTO, folder / ".shot010.jpg")
    arguments, _ = COMMANDS[command]
    result = run_cli(*arguments(folder, tmp_path / "out"))
    assert result.exit_code == 2
    assert "no media file was" in result.stderr


def test_reports_of_a_delivery_where_nothing_was_checked_do_not_say_pass(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    folder.mkdir()
    (folder / "README.txt").write_text("delivery notes\n")
    run_cli("check", folder, "-f", "html", "-o", tmp_path / "qc.html")
    assert '<span class="badge pass">PASS</span>' not in (tmp_path / "qc.html").read_text(encoding="utf-8")
    run_cli("check", folder, "-f", "junit", "-o", tmp_path / "qc.xml")
    assert int(ET.parse(tmp_path / "qc.xml").getroot().get("errors") or 0) >= 1


# -- credits come only from files that declare AI use ----------------------------------------------


def test_credits_come_only_from_files_that_declare_ai_use(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    record = load_record(FIXTURES / "example-record.toml")
    made_with_ai = stamp(PHOTO, record, output_dir=folder / "ai").destination
    photographer = DisclosureRecord.model_validate({"ai_credit_line": "My Credit"})  # a photo credit, no AI data
    stamp(PHOTO, photographer, output_dir=folder / "plain")
    credits = run_cli("credits", folder, "-f", "json").json()
    assert [line["text"] for line in credits["credit_lines"]] == [record.ai_credit_line]
    assert all(line["files"] == [str(made_with_ai)] for line in credits["credit_lines"])
    assert (credits["files"], credits["files_with_ai"]) == (2, 1)
    assert "My Credit" not in run_cli("credits", folder).stdout


# -- a value the record rejects is "invalid", not "missing" ---------------------------------------

MADE_UP_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/madeUpMedia"


def test_check_says_invalid_with_the_value_found_not_missing(tmp_path: Path) -> None:
    record = load_record(FIXTURES / "example-record.toml")
    path = stamp(PHOTO, record, output_dir=tmp_path).destination
    with pyexiv2.Image(str(path)) as image:
        image.modify_xmp(
            {"Xmp.iptcExt.DigitalSourceType": MADE_UP_SOURCE_TYPE, own_key("digital_source_type"): MADE_UP_SOURCE_TYPE}
        )
    lines = run_cli("check", path).stdout.splitlines()
    found = lines[lines.index(next(line for line in lines if "attribution.ai-source-type" in line)) + 1]
    assert "found invalid '" in found and "madeUpMedia'" in found  # the value as read
    assert "found missing" not in found
    data = run_cli("check", path, "-f", "json").json()
    (result,) = [r for r in data["files"][0]["results"] if r["rule"] == "attribution.ai-source-type"]
    assert result["outcome"] == "fail"
    assert str(result["actual"]).endswith("madeUpMedia")
    assert result["invalid"]
    assert result["carrier"] in ("xmp:Xmp.iptcExt.DigitalSourceType", f"xmp:{own_key('digital_source_type')}")


# -- profiles say what they need to know first -----------------------------------------------------


def test_ca_sb942_fails_a_file_that_does_not_declare_ai_use(tmp_path: Path) -> None:
    result = run_cli("check", PHOTO, "-p", "ca-sb942", "-f", "json")
    assert result.exit_code == 1
    failed = [r for r in result.json()["files"][0]["results"] if r["outcome"] == "fail"]
    assert [(r["rule"], r["field"]) for r in failed] == [("sb942.ai-use-declared", "ai_used")]
    assert "undeclared" in failed[0]["message"]


def test_c2pa_strict_reports_a_missing_manifest_once() -> None:
    result = run_cli("check", PHOTO, "-p", "c2pa-strict", "-f", "json")
    assert result.exit_code == 1
    outcomes = {r["rule"]: r["outcome"] for r in result.json()["files"][0]["results"]}
    assert outcomes == {
        "c2pa.manifest-present": "fail",
        "c2pa.manifest-valid": "n/a",
        "c2pa.signer-trusted": "n/a",
        "c2pa.ingredients-valid": "n/a",
    }


def test_a_rule_that_requires_another_is_not_checked_while_that_one_fails(tmp_path: Path) -> None:
    policy = tmp_path / "studio.toml"
    policy.write_text(
        '[[rules]]\nid = "studio.asset-id"\nmessage = "An asset id."\ntest = { field = "asset_id", exists = true }\n\n'
        '[[rules]]\nid = "studio.asset-id-form"\nmessage = "Our form."\nrequires = "studio.asset-id"\n'
        'test = { field = "asset_id", matches = "^SHOT" }\n',
        encoding="utf-8",
    )
    results = run_cli("check", PHOTO, "-p", policy, "-f", "json").json()["files"][0]["results"]
    assert [(r["rule"], r["outcome"]) for r in results] == [
        ("studio.asset-id", "fail"),
        ("studio.asset-id-form", "n/a"),
    ]
    assert "studio.asset-id" in results[1]["expected"]
