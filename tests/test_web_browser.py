"""``aidisclose serve`` driven in Debian's Chromium as its users drive it: fill the record, stamp, inspect, review,
approve and verify the sign-off.

One server and one browser for the module; the tests run in the order a person works (the record saved
is the one stamped, the files stamped are the ones inspected and reviewed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from aidisclose.record import load_record

from .conftest import EXAMPLE_RECORD, FIXTURES, ROOT
from .webserver import Served, serving

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

SECONDS = 60_000  # ms: the longest one step may take (a stamp, a check) on a busy machine


def chromium_or_fail() -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("Chromium is not installed; scripts/install-system-deps.sh installs Debian's chromium")
    return chromium


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "aidisclose", *map(str, args)],
        capture_output=True, text=True, timeout=300, check=False, env=env, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("web") / "studio"
    root.mkdir()
    shutil.copy(FIXTURES / "images" / "photo.jpg", root / "photo.jpg")
    shutil.copy(EXAMPLE_RECORD, root / "record.toml")
    options = ["--sign-cert", str(keys["chain"]), "--sign-key", str(keys["key"]), "--trust", str(keys["ca"])]
    with serving(root, *options) as server:
        yield server


@pytest.fixture(scope="module")
def page(served: Served) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=SECONDS)  # assertions wait as long as actions (their own default is 5 s)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_fail(), args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(accept_downloads=True)
        tab = context.new_page()
        tab.set_default_timeout(SECONDS)
        tab.goto(served.url)  # the printed URL: the token becomes the session cookie
        yield tab
        browser.close()


def test_the_editor_shows_stamps_reason_beside_a_mistake_and_saves_valid_toml(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    page.goto(served.base + "/record")
    page.fill("[name='title']", "Sky plate <b>010</b>")
    page.select_option("[name='digital_source_type']", "compositeWithTrainedAlgorithmicMedia")
    page.select_option("[name='ai_used']", "true")
    page.click("button[value='add:ai_systems']")
    page.fill("[name='ai_systems.0.name']", "ExampleGen")
    page.click("button[value='add:creators']")
    page.click("button[value='add:creators']")
    page.fill("[name='creators.0.name']", "Someone removed")
    page.fill("[name='creators.1.name']", "A. Artist")
    page.click("button[value='remove:creators.0']")
    expect(page.locator("[name='creators.0.name']")).to_have_value("A. Artist")
    expect(page.locator("[name='creators.1.name']")).to_have_count(0)

    page.fill("[name='generated_at']", "2026-10-01")  # a day without a time: stamp refuses it
    expect(page.locator("#err-generated_at")).to_have_text(
        "needs a date, a time and a UTC offset, e.g. 2026-10-01T10:00:00Z"
    )
    expect(page.locator("#verdict")).to_contain_text("stamp would refuse")

    page.fill("[name='generated_at']", "2026-10-01T10:00:00Z")
    expect(page.locator("#err-generated_at")).to_have_text("")
    expect(page.locator("#verdict")).to_contain_text("valid")
    expect(page.locator("#toml")).to_contain_text('name = "ExampleGen"')
    expect(page.locator("#toml")).to_contain_text("generated_at = 2026-10-01T10:00:00Z")
    assert page.locator("#toml b").count() == 0, "a value typed in is text, never markup"

    page.fill("[name='__save_as']", "records/shot010.toml")
    page.click("#save")
    expect(page.locator("#saved")).to_contain_text("saved records/shot010.toml")
    record = load_record(served.root / "records" / "shot010.toml")
    assert record.title == "Sky plate <b>010</b>"
    assert [s.name for s in record.ai_systems] == ["ExampleGen"]
    assert [c.name for c in record.creators] == ["A. Artist"]

    page.goto(served.base + "/record?load=records/shot010.toml")
    expect(page.locator("[name='ai_systems.0.name']")).to_have_value("ExampleGen")


def test_two_files_are_stamped_and_signed_with_the_clis_lines(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    page.goto(served.base + "/stamp")
    page.set_input_files("#upload input[type=file]", str(FIXTURES / "images" / "overlay.png"))
    page.click("#upload button")
    expect(page.locator("#files")).to_contain_text("uploaded: incoming/overlay.png")
    page.check("input[name='file'][value='photo.jpg']")
    expect(page.locator("input[name='file'][value='incoming/overlay.png']")).to_be_checked()
    page.select_option("[name='record']", "record.toml")
    page.fill("[name='output']", "delivery")
    page.check("[name='sign']")
    page.click("#stamp-button")
    expect(page.locator("#progress[data-finished='yes']")).to_be_visible()
    lines = page.locator("#progress li.stamped").all_inner_texts()
    assert len(lines) == 2, page.locator("#progress").inner_text()
    assert any(line.endswith("(png; xmp; 34 values)") and "overlay.png" in line for line in lines), lines
    assert (served.root / "delivery" / "photo.jpg").is_file() and (served.root / "delivery" / "overlay.png").is_file()


def test_a_stamped_file_opens_in_inspect_with_carriers_and_its_c2pa_state(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    page.goto(served.base + "/inspect?path=delivery/photo.jpg")
    record = page.locator("#record")
    expect(record).to_contain_text("Shot 010, sky replacement")
    expect(record.locator("tr", has_text="Shot 010, sky replacement")).to_contain_text("xmp:")
    expect(page.locator("#c2pa")).to_contain_text("trusted")
    expect(page.locator(".thumb img")).to_have_attribute("src", __import__("re").compile("^data:image/"))
    assert page.locator("#facts tr").count() > 1


def test_a_delivery_is_reviewed_filtered_approved_and_its_signoff_verifies(page: Any, served: Served) -> None:
    from playwright.sync_api import expect

    page.goto(served.base + "/review")
    page.select_option("[name='folder']", "delivery")
    page.click("#check-button")
    page.wait_for_url("**/review/*")
    rows = page.locator("#table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#summary")).to_contain_text("2 passed")
    page.select_option("#filters [name='format']", "png")
    expect(rows).to_have_count(1)
    page.click("#table a")
    expect(page.locator("#filecard")).to_contain_text("overlay.png")
    page.select_option("#filters [name='format']", "")
    expect(rows).to_have_count(2)
    with page.expect_download() as download:
        page.click("a[href$='report.csv']")
    assert "delivery/photo.jpg" in Path(download.value.path()).read_text()

    for box in page.locator("input[name='pick']").all():
        box.check()
    page.fill("[name='reviewer']", "R. Lead")
    page.fill("[name='role']", "QC lead")
    page.click("#approve-button")
    expect(page.locator("#signoff-result")).to_have_attribute("data-exit", "0")
    expect(page.locator("#verified")).to_have_attribute("data-exit", "0")
    document = served.root / page.locator("#signoff-download").inner_text()
    assert document.is_file() and Path(str(document) + ".p7s").is_file()
    verified = _cli("signoff", "verify", document, "--trust", served_ca(served), "--against", served.root / "delivery")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    fetched = page.request.get(served.base + str(page.locator("#signoff-download").get_attribute("href")))
    assert fetched.ok and fetched.body() == document.read_bytes()
    assert fetched.headers["content-disposition"].startswith("attachment")


def served_ca(served: Served) -> str:
    """The trust anchor the server was started with."""
    args = served.process.args
    assert isinstance(args, list)
    return str(args[args.index("--trust") + 1])
