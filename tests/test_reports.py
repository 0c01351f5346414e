"""Reports a QC lead signs off from: the HTML page, JUnit and JSON of `check`, `inspect` text, `--help`."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import struct
import subprocess
import sys
import tracemalloc
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import TextIO

import pytest

from aidisclose import load_record, stamp
from aidisclose.batch import Item, effective_jobs
from aidisclose.carriers.c2pa.identity import SigningIdentity, make_test_ca
from aidisclose.check import FileCheck, ReportHead, iter_checks, policy_infos
from aidisclose.policy import load_policy
from aidisclose.report import STREAMERS, ReportFormat

from .conftest import EXAMPLE_RECORD, FIXTURES, run_cli

JPEG = FIXTURES / "images" / "photo.jpg"


def exiftool_write(path: Path, *assignments: str) -> None:
    subprocess.run(["exiftool", "-q", "-overwrite_original", *assignments, str(path)], check=True)


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> SigningIdentity:
    keys = make_test_ca(tmp_path_factory.mktemp("keys"))
    return SigningIdentity.from_files(keys["chain"], keys["key"])


@pytest.fixture
def odd_delivery(tmp_path: Path, identity: SigningIdentity) -> Path:
    """A signed file, a file whose carriers disagree and hold a value the record rejects, a plain pass."""
    folder = tmp_path / "delivery"
    signed = stamp(JPEG, load_record(EXAMPLE_RECORD), output_dir=folder, signing=identity).destination
    signed.rename(folder / "signed.jpg")
    odd = stamp(JPEG, load_record(EXAMPLE_RECORD), output_dir=folder).destination
    exiftool_write(odd, "-XMP-dc:Creator=Someone Else", "-XMP-iptcExt:DigitalSourceType=http://example.com/madeUp")
    odd.rename(folder / "odd.jpg")
    stamp(FIXTURES / "audio" / "tone.wav", load_record(EXAMPLE_RECORD), output_dir=folder)
    return folder


def by_name(report: dict[str, object]) -> dict[str, dict[str, object]]:
    return {Path(f["path"]).name: f for f in report["files"]}  # type: ignore[attr-defined, index]


# -- check JSON ------------------------------------------------------------------------------------


def test_check_json_carries_each_files_c2pa_state_conflicts_and_problems(odd_delivery: Path) -> None:
    files = by_name(run_cli("check", odd_delivery, "-f", "json").json())
    assert files["signed.jpg"]["c2pa"]["state"] == "valid"  # type: ignore[index]
    assert files["signed.jpg"]["c2pa"]["signer"]  # type: ignore[index]
    assert files["tone.wav"]["c2pa"]["state"] == "none"  # type: ignore[index]
    odd = files["odd.jpg"]
    assert [c["field"] for c in odd["conflicts"]] == ["creators"]  # type: ignore[attr-defined, index]
    assert odd["conflicts"][0]["other_value"] == [{"name": "Someone Else"}]  # type: ignore[index]
    (problem,) = odd["problems"]  # type: ignore[misc]
    assert (problem["field"], problem["value"]) == ("digital_source_type", "http://example.com/madeUp")
    assert "thumbnail" not in odd


# -- HTML ------------------------------------------------------------------------------------------


def test_html_cards_name_the_c2pa_state_conflicts_and_invalid_values(odd_delivery: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run_cli("check", odd_delivery, "-f", "html", "-o", page)
    html = page.read_text()
    index, cards = html.split("</table>", 1)
    assert index.count("<a href='#f") == 3  # the table at the top lists every file, linking to its card
    signed = cards[cards.index("signed.jpg") :]
    assert "C2PA valid" in signed[: signed.index("</section>")]
    odd = cards[cards.index("odd.jpg</h2>") :]
    odd = odd[: odd.index("</section>")]
    assert "conflict</span> <b>creators</b>" in odd and "Someone Else" in odd
    assert "invalid</span> <b>digital_source_type</b>" in odd and "http://example.com/madeUp" in odd
    assert "= '" not in html and "unreadable" not in html  # readable expected text; one word for errors


def huge_png(path: Path) -> Path:
    """A PNG whose header claims 20000x20000 pixels (1.6 GB decoded) over a few bytes of data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def test_a_thumbnail_that_cannot_be_made_is_a_missing_picture(tmp_path: Path) -> None:
    folder = tmp_path / "delivery"
    stamp(JPEG, load_record(EXAMPLE_RECORD), output_dir=folder)
    huge_png(folder / "huge.png")
    page = tmp_path / "report.html"
    result = run_cli("check", folder, "-f", "html", "-o", page)
    assert result.exit_code == 1  # the unstamped PNG fails its rules; the report is whole
    html = page.read_text()
    assert html.endswith("</html>\n") and "QC sign-off" in html
    assert '<span class="badge fail">FAIL</span></h1>' in html
    card = html[html.index("huge.png</h2>") - 400 :]
    card = card[card.index('<section class="file"') : card.index("</section>")]
    assert "<img" not in card
    assert html.count("<img") == 1  # the JPEG's


def test_thumbnails_are_made_where_the_file_is_read_not_by_the_writer(tmp_path: Path) -> None:
    items = [Item(JPEG), Item(FIXTURES / "images" / "plate.tif")]
    policies = [load_policy("genai-production")]
    made = list(iter_checks(items, policies, jobs=2, thumbnails=True))  # crossing from worker processes
    assert all((f.thumbnail or "").startswith(("data:image/jpeg;", "data:image/png;")) for f in made)
    bare = [f.model_copy(update={"thumbnail": None}) for f in made]
    html = write(ReportFormat.html, iter(bare))
    assert "<img" not in html  # the writer never opens the files itself


def write(fmt: ReportFormat, files: Iterator[FileCheck], out: TextIO | None = None) -> str:
    stream = out or StringIO()
    head = ReportHead("2026-01-01T00:00:00Z", False, policy_infos([load_policy("genai-production")]))
    STREAMERS[fmt](files, head, stream, False, lambda: 0.0)
    return "" if out else stream.getvalue()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def checked_sample() -> list[FileCheck]:
    items = [Item(p) for p in [JPEG, FIXTURES / "audio" / "tone.wav", FIXTURES / "video" / "clip.mov"]]
    return list(iter_checks(items, [load_policy("genai-production")], thumbnails=True))


@pytest.mark.parametrize("fmt", [ReportFormat.html, ReportFormat.junit])
def test_html_and_junit_hold_no_file_in_memory_while_they_write(
    fmt: ReportFormat, checked_sample: list[FileCheck]
) -> None:
    def files(n: int) -> Iterator[FileCheck]:
        for index, file in zip(range(n), itertools.cycle(checked_sample), strict=False):
            yield file.model_copy(update={"path": f"{file.path}#{index}"})

    def peak(n: int) -> int:
        with open(os.devnull, "w", encoding="utf-8") as nowhere:  # the page itself is not kept
            tracemalloc.start()
            try:
                write(fmt, files(n), nowhere)
                return tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    # Ten times the files: the writer's own memory (the verdicts aside) stays what it was.
    small, large = peak(200), peak(2000)
    assert large < small * 2, (small, large)


def test_junit_is_one_document_with_the_totals_of_every_suite(checked_sample: list[FileCheck]) -> None:
    root = ET.fromstring(write(ReportFormat.junit, iter(checked_sample * 3)))
    suites = root.findall("testsuite")
    assert len(suites) == 9
    for key in ("tests", "failures", "errors", "skipped"):
        assert int(root.get(key) or -1) == sum(int(s.get(key) or 0) for s in suites)


def chromium_or_fail() -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is not installed; scripts/install-system-deps.sh installs Debian's chromium")
    return chromium


@pytest.mark.slow
def test_html_report_of_1000_files_reads_in_chromium(tmp_path: Path, odd_delivery: Path) -> None:
    from playwright.sync_api import sync_playwright

    folder = tmp_path / "big"
    folder.mkdir()
    stamped = [p for p in odd_delivery.iterdir() if p.name != "odd.jpg"]
    for index in range(1000):
        if index % 50 == 0:
            source = odd_delivery / "odd.jpg"  # conflicts and an invalid value: it passes, but not quietly
        elif index % 10 == 0:
            source = FIXTURES / "images" / "overlay.png"  # unstamped: fails
        else:
            source = stamped[index % len(stamped)]
        shutil.copyfile(source, folder / f"shot{index:04}{source.suffix}")
    page = tmp_path / "report.html"
    result = run_cli("check", folder, "-f", "html", "-o", page, "--jobs", "2")
    assert result.exit_code == 1, result.stderr
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_fail(), args=["--no-sandbox", "--disable-gpu"])
        try:
            view = browser.new_page(viewport={"width": 1280, "height": 900})
            view.goto(page.as_uri(), wait_until="load")
            facts = view.evaluate(
                """() => {
                const rows = [...document.querySelectorAll('table.index tbody tr')];
                const cards = [...document.querySelectorAll('section.file')];
                const passing = cards.filter(c => c.classList.contains('compact') && c.dataset.verdict === 'pass');
                return {
                  rows: rows.length,
                  linked: rows.filter(r => document.getElementById(r.querySelector('a').hash.slice(1))).length,
                  firstRow: rows[0].dataset.verdict,
                  tableFirst: document.querySelector('table.index').getBoundingClientRect().top
                              < cards[0].getBoundingClientRect().top,
                  cards: cards.length,
                  compact: passing.length,
                  tallestPassing: Math.max(...passing.map(c => c.getBoundingClientRect().height)),
                  pictures: [...document.images].filter(i => i.complete && i.naturalWidth > 0).length,
                  height: document.documentElement.scrollHeight,
                  verdict: document.querySelector('header h1 .badge').textContent,
                };
            }"""
            )
            view.click("table.index a[href='#f0']")
            assert view.evaluate("location.hash") == "#f0"
            assert view.evaluate("document.getElementById('f0').getBoundingClientRect().top") < 50
        finally:
            browser.close()
    assert facts["rows"] == facts["linked"] == facts["cards"] == 1000
    assert facts["tableFirst"] and facts["firstRow"] == "fail" and facts["verdict"] == "FAIL"
    assert facts["compact"] >= 850 and facts["tallestPassing"] < 90
    assert facts["pictures"] >= 600  # every JPEG and PNG thumbnail decodes (the WAVs have none)
    assert facts["height"] < 1000 * 160, facts  # each file took a card of 600 px and more
    assert page.stat().st_size < 12_000_000


# -- inspect text ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tone.flac", "tone.opus", "tone.ogg", "photo.jpg"])
def test_inspect_text_reads_at_80_columns(name: str, tmp_path: Path) -> None:
    source = next(FIXTURES.glob(f"*/{name}"))
    target = stamp(source, load_record(EXAMPLE_RECORD), output_dir=tmp_path).destination
    if name == "photo.jpg":
        exiftool_write(target, "-XMP-dc:Creator=Someone Else")
    lines = run_cli("inspect", target).stdout.splitlines()[1:]  # the file's name may be longer
    assert lines and all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    text = "\n".join(lines)
    # A value has the width of the terminal less the field names: a sentence reads on one line.
    assert "Sky replaced with a generated plate; background crowd" in text
    # A wrapped or nested line keeps its indentation under the value.
    (purpose,) = [line for line in lines if "purpose: sky plate" in line]
    assert purpose.startswith(" " * 25 + "purpose: sky plate generation")
    assert "\\n" not in text
    if name == "photo.jpg":
        (conflict,) = [i for i, line in enumerate(lines) if "conflict creators" in line]
        assert "- name: A. Artist" in lines[conflict + 1] and "- name: B. Supervisor" in lines[conflict + 2]


def test_inspect_text_shows_c2pa_actions_and_source_type(tmp_path: Path, identity: SigningIdentity) -> None:
    signed = stamp(JPEG, load_record(EXAMPLE_RECORD), output_dir=tmp_path, signing=identity).destination
    text = run_cli("inspect", signed).stdout
    assert re.search(r"\n +actions: c2pa\.\w+", text), text  # the fixture's own manifest, kept as an ingredient
    assert "source type: compositeWithTrainedAlgorithmicMedia" in text


# -- --help ----------------------------------------------------------------------------------------

COMMANDS = [
    ["stamp"], ["inspect"], ["check"], ["credits"], ["watch"], ["init"], ["schema"], ["policy", "init"], ["approve"],
    ["signoff", "verify"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_reads_as_text_at_80_columns(command: list[str]) -> None:
    env = {**os.environ, "COLUMNS": "80", "TERMINAL_WIDTH": "80", "NO_COLOR": "1"}
    run = subprocess.run(
        [sys.executable, "-c", "from aidisclose.cli import main; main()",
         *command, "--help"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    help_text = run.stdout
    assert run.returncode == 0, run.stderr
    for python in ("<bool>", "<int>", "<path>", "<list[", "<str>", "<float>", "[default: 0]", "…"):
        assert python not in help_text, python
    (usage,) = [line for line in help_text.splitlines() if "Usage:" in line]
    assert "{" not in usage, usage
    # A paragraph of the description fills its lines: none ends half-way across the screen mid-sentence.
    description = help_text.split("╭", 1)[0].splitlines()
    paragraphs: list[list[str]] = [[]]
    for line in description:
        if line.strip():
            paragraphs[-1].append(line)
        else:
            paragraphs.append([])
    for lines in paragraphs:
        body = [line for line in lines if not line.startswith("   ")]  # examples are indented
        for line, after in itertools.pairwise(body):
            assert len(line.rstrip()) > 60, f"{line!r} is cut before {after!r}"
    if "--trust" in help_text:
        assert "AIDISCLOSE_TRUST_ANCHORS" in help_text


@pytest.mark.parametrize("value", ["0", "-3"])
def test_jobs_below_one_is_refused(value: str) -> None:
    result = run_cli("check", JPEG, "--jobs", value)
    assert result.exit_code == 2
    assert "--jobs" in result.stderr


def test_jobs_is_capped_at_what_helps() -> None:
    cpus = os.cpu_count() or 1
    assert effective_jobs(64, files=1000) == cpus
    assert effective_jobs(64, files=1) == 1
    assert effective_jobs(None, files=3) == min(3, cpus)
    assert effective_jobs(1, files=1000) == 1
