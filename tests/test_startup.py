"""One call, one file: a command loads only what it and the file's format need.

Export hooks and QC staff run aidisclose once per file, so start-up is most of each call's time. Each
test runs the CLI in a fresh interpreter, as a hook does, and lists the modules it loaded.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES, ROOT

RECORD = ROOT / "fixtures" / "example-record.toml"

#: Runs the CLI as ``main`` does with the arguments after the first, then writes the loaded modules to the first.
_RUN = """
import sys
from aidisclose.cli import app_for
try:
    app_for(sys.argv[2:])(sys.argv[2:], prog_name="aidisclose", standalone_mode=False)
finally:
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        out.write("\\n".join(sorted(sys.modules)))
"""

PHOTO = FIXTURES / "images" / "photo.jpg"

#: Loaded by no one-file command on a plain JPEG: audio tags, folder watching, pixels, certificates,
#: the C2PA SDK (no manifest by the pre-scan), the browser for HTML reports, the process pool (one file),
#: progress bars (not a terminal), QC approval and its CMS signatures, the web app, the HTML report's
#: templates.
NEVER_FOR_ONE_JPEG = (
    "mutagen",
    "c2pa",
    "watchdog",
    "PIL",
    "cryptography",
    "playwright",
    "concurrent.futures.process",
    "rich.progress",
    "rich.table",
    "asn1crypto",
    "aidisclose.approve",
    "aidisclose.signoff",
    "starlette",
    "uvicorn",
    "jinja2",
    "aidisclose.web",
    "aidisclose.report.html",
    # object storage and the Dask engine: only for an s3:// path or --engine dask
    "fsspec",
    "s3fs",
    "distributed",
    "aidisclose.remote",
)
#: JSON output and plain messages need no rich (it is for text laid out for people).
NOT_FOR_JSON = (*NEVER_FOR_ONE_JPEG, "rich")
#: ``inspect`` checks no policy: no policy engine (RE2) and no check models.
NOT_FOR_INSPECT = (*NOT_FOR_JSON, "re2", "aidisclose.policy.engine", "aidisclose.check")
#: A plain JPEG's technical facts come from its frame header: MediaInfo is not loaded, nor its helper forked.
NOT_FOR_INSPECT_JPEG = (*NOT_FOR_INSPECT, "pymediainfo")
#: ``--version`` reads no file: not exiv2, not the record's models, not pydantic at all.
NOT_FOR_VERSION = (*NOT_FOR_INSPECT, "pyexiv2", "aidisclose.record", "aidisclose.inspect", "pydantic")


def loaded_modules(tmp_path: Path, *args: str) -> set[str]:
    listing = tmp_path / "modules.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(listing), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert listing.exists(), f"aidisclose {' '.join(args)} did not run:\n{done.stderr}"
    return set(listing.read_text(encoding="utf-8").split())


def _loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The names of ``names`` that are loaded, as themselves or through a submodule."""
    return [n for n in names if n in modules or any(m.startswith(n + ".") for m in modules)]


@pytest.mark.parametrize(
    ("args", "absent", "present"),
    [
        (("--version",), NOT_FOR_VERSION, ()),
        (("inspect", str(PHOTO), "-f", "json"), NOT_FOR_INSPECT_JPEG, ("pyexiv2",)),
        (("check", str(PHOTO), "-f", "json"), NOT_FOR_JSON, ("pyexiv2", "re2")),
        (  # stamping decodes the pixels before and after, to prove them unchanged
            ("stamp", str(PHOTO), "-r", str(RECORD), "-o", "{tmp}"),
            tuple(n for n in (*NOT_FOR_INSPECT, "pymediainfo") if n != "PIL"),
            ("pyexiv2", "PIL"),
        ),
        (
            ("inspect", str(FIXTURES / "audio" / "tone.mp3"), "-f", "json"),
            tuple(n for n in NOT_FOR_INSPECT if n != "mutagen"),
            ("mutagen", "pymediainfo"),
        ),
    ],
    ids=["version", "inspect-jpeg", "check-jpeg", "stamp-jpeg", "inspect-mp3"],
)
def test_a_one_file_command_loads_only_what_it_needs(
    tmp_path: Path, args: tuple[str, ...], absent: tuple[str, ...], present: tuple[str, ...]
) -> None:
    modules = loaded_modules(tmp_path, *(a.replace("{tmp}", str(tmp_path / "out")) for a in args))
    assert _loaded(modules, present) == list(present), "the file was not read: the listing proves nothing"
    assert _loaded(modules, absent) == [], f"aidisclose {' '.join(args)} loaded modules it does not need"


@pytest.mark.parametrize(
    "name", ["photo.jpg", "CA_ct.jpg", "IMG_0003.jpg", "PhotoMechanic.jpg", "Reagan.jpg", "cloud.jpg"]
)
def test_a_jpeg_frame_header_gives_the_technical_facts_mediainfo_gives(name: str) -> None:
    from aidisclose.technical import jpeg_frame_facts, technical_facts

    path = PHOTO if name == "photo.jpg" else FIXTURES / "foreign" / name
    fast = jpeg_frame_facts(path)
    assert fast is not None and fast == technical_facts(path)  # no format named: MediaInfo's own reading


def test_a_jpeg_without_a_plain_frame_header_is_left_to_mediainfo(tmp_path: Path) -> None:
    from aidisclose.technical import jpeg_frame_facts

    cut = tmp_path / "cut.jpg"
    cut.write_bytes(PHOTO.read_bytes()[:40])  # ends before the frame header
    assert jpeg_frame_facts(cut) is None
    (tmp_path / "zero.jpg").write_bytes(b"\xff\xd8\xff\xc0\x00\x11\x08\x00\x00\x00\x40")  # height 0: a DNL
    assert jpeg_frame_facts(tmp_path / "zero.jpg") is None


def test_the_command_line_skips_pydantic_s_plugin_scan() -> None:
    """pydantic's first validation scans every installed package's metadata for plugins; `main` turns it off."""
    probe = (
        "import atexit, sys\n"
        "def report():\n"
        "    from pydantic.plugin import _loader\n"
        "    sys.stderr.write(f'plugins scanned: {_loader._plugins is not None}\\n')\n"
        "atexit.register(report)\n"
        "from aidisclose.cli import main\n"
        f"sys.argv = ['aidisclose', 'inspect', {str(PHOTO)!r}, '-f', 'json']\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "plugins scanned: False" in done.stderr


@pytest.mark.parametrize(
    ("argv", "built"),
    [
        (["inspect", "a.jpg", "-f", "json"], ["inspect"]),
        (["policy", "show", "ca-sb942"], ["policy"]),
        (["--version"], []),
        (["--help"], None),
        (["--help", "check"], None),  # the app's own help lists every command
        (["check", "--help"], ["check"]),
        ([], None),
        (["inspec", "a.jpg"], None),
    ],
)
def test_only_the_command_named_is_built(argv: list[str], built: list[str] | None) -> None:
    """Typer builds the options of every command it holds before parsing: ``main`` gives it the one named.
    Help, no arguments and a misspelt name keep the whole app (listings and "did you mean" stay whole)."""
    from aidisclose.cli import app, app_for

    trimmed = app_for(argv)
    names = [i.name for i in trimmed.registered_commands] + [i.name for i in trimmed.registered_groups]
    if built is None:
        assert trimmed is app
    else:
        assert names == built and len(app.registered_commands) > 5  # the app itself keeps every command
