#!/usr/bin/env python3
"""Screenshots of each page of ``aidisclose serve`` into docs/, for the README.

Starts the app on a free 127.0.0.1 port over a scratch root holding the bundled fixtures and test
signing keys, drives it in Debian's Chromium (Playwright, nothing downloaded) as a person would, and
saves docs/web-record.png, web-stamp.png, web-inspect.png, web-review.png and web-signoff.png.
Run: .venv/bin/python scripts/web_screenshots.py
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
FIXTURES = REPO / "fixtures"
SIZE = {"width": 1400, "height": 1000}


def main() -> None:
    from playwright.sync_api import expect, sync_playwright

    from aidisclose.carriers.c2pa.identity import make_test_ca

    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "studio"
        (root / "plates").mkdir(parents=True)
        for name in ("images/photo.jpg", "images/overlay.png", "images/still.webp", "audio/tone.wav"):
            shutil.copy(FIXTURES / name, root / "plates" / Path(name).name)
        shutil.copy(FIXTURES / "example-record.toml", root / "record.toml")
        (root / "studio-policy.toml").write_text(
            '[policy]\nname = "studio"\ndescription = "Studio rules"\nextends = "genai-production"\n'
        )
        keys = make_test_ca(Path(scratch) / "keys")
        server = subprocess.Popen(
            [sys.executable, "-m", "aidisclose", "serve", "--root", str(root), "--port", "0",
             "--sign-cert", str(keys["chain"]), "--sign-key", str(keys["key"]), "--trust", str(keys["ca"])],
            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env,
        )  # fmt: skip
        try:
            assert server.stderr is not None
            url = None
            while url is None:
                line = server.stderr.readline()
                if not line:
                    raise SystemExit("aidisclose serve printed no URL")
                found = re.search(r"open (http://\S+)", line)
                url = found.group(1) if found else None
            base = url.split("/?", 1)[0]
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport=SIZE)
                page.set_default_timeout(60_000)
                expect.set_options(timeout=60_000)
                page.goto(url)

                page.goto(base + "/record?load=record.toml")
                page.fill("[name='generated_at']", "2026-10-01")
                expect(page.locator("#err-generated_at")).to_contain_text("needs a date")
                page.locator("[name='generated_at']").evaluate("e => e.scrollIntoView({block: 'center'})")
                page.screenshot(path=str(DOCS / "web-record.png"))

                page.goto(base + "/stamp")
                for name in ("photo.jpg", "overlay.png", "still.webp", "tone.wav"):
                    page.check(f"input[name='file'][value='plates/{name}']")
                page.select_option("[name='record']", "record.toml")
                page.fill("[name='output']", "delivery")
                page.check("[name='sign']")
                page.click("#stamp-button")
                expect(page.locator("#progress[data-finished='yes']")).to_be_visible()
                page.screenshot(path=str(DOCS / "web-stamp.png"))

                page.goto(base + "/inspect?path=delivery/photo.jpg")
                page.screenshot(path=str(DOCS / "web-inspect.png"), full_page=True)

                page.goto(base + "/review")
                page.select_option("[name='folder']", "delivery")
                page.click("#check-button")
                page.wait_for_url("**/review/*")
                page.click("#table a >> nth=0")
                expect(page.locator("#filecard")).to_be_visible()
                page.screenshot(path=str(DOCS / "web-review.png"))

                page.fill("[name='reviewer']", "R. Lead")
                page.fill("[name='role']", "QC lead")
                page.click("#approve-all-button")
                expect(page.locator("#verified")).to_be_visible()
                page.locator("#signoff").evaluate("e => e.scrollIntoView({block: 'center'})")
                page.screenshot(path=str(DOCS / "web-signoff.png"))
                browser.close()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    print("wrote", ", ".join(f"docs/web-{n}.png" for n in ("record", "stamp", "inspect", "review", "signoff")))


if __name__ == "__main__":
    main()
