"""Shared test helpers: fixture paths, the CLI runner, ExifTool as a witness."""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from typer.testing import CliRunner

from aidisclose import DisclosureRecord, load_record
from aidisclose.cli import app

if TYPE_CHECKING:
    from aidisclose.carriers.c2pa.identity import SigningIdentity

from .tsa import make_ca, timestamp_authority

# The suite's `aidisclose` processes run the code under test in their own process, never in a command
# server the developer may be running (tests/test_server.py starts its own).
os.environ["AIDISCLOSE_SERVER"] = "off"

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
IMAGE_FIXTURES = sorted((FIXTURES / "images").iterdir())
AUDIO_FIXTURES = sorted((FIXTURES / "audio").iterdir())
VIDEO_FIXTURES = sorted((FIXTURES / "video").iterdir())
ALL_FIXTURES = IMAGE_FIXTURES + AUDIO_FIXTURES + VIDEO_FIXTURES
EXAMPLE_RECORD = FIXTURES / "example-record.toml"


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def run_cli(*args: str | Path) -> CliResult:
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


def exiftool_json(path: Path, *tags: str) -> dict[str, Any]:
    exe = shutil.which("exiftool")
    if exe is None:
        pytest.fail("exiftool is not installed; `make test` installs it (Debian libimage-exiftool-perl)")
    out = subprocess.run([exe, "-json", *tags, str(path)], check=True, capture_output=True, text=True)
    data: dict[str, Any] = json.loads(out.stdout)[0]
    return data


def exiftool_lines(path: Path, *tags: str) -> list[str]:
    """ExifTool's ``-s`` text output, one 'Tag: value' per line (JSON cannot hold repeated tags)."""
    exe = shutil.which("exiftool")
    if exe is None:
        pytest.fail("exiftool is not installed; `make test` installs it (Debian libimage-exiftool-perl)")
    out = subprocess.run([exe, "-a", "-s", *tags, str(path)], check=True, capture_output=True, text=True)
    return [" ".join(line.split(None, 2)[::2]) for line in out.stdout.splitlines()]


def pcm_md5(path: Path) -> str:
    """ffmpeg's MD5 of the decoded audio: an independent witness of the essence."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "md5", "-"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def snapshot(path: Path) -> tuple[bytes, int]:
    """The file's bytes and modification time: what 'unchanged' means here."""
    return path.read_bytes(), path.stat().st_mtime_ns


@pytest.fixture
def example_record() -> DisclosureRecord:
    return load_record(EXAMPLE_RECORD)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A temporary folder holding a copy of every image fixture."""
    for source in IMAGE_FIXTURES:
        shutil.copy2(source, tmp_path / source.name)
    return tmp_path


@pytest.fixture(scope="module")
def tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path | str]]:
    """A real RFC 3161 time-stamp authority (OpenSSL ``ts``) on 127.0.0.1: its ``url`` and the ``ca`` it chains to."""
    from cryptography.x509.oid import ExtendedKeyUsageOID

    authority = make_ca(tmp_path_factory.mktemp("tsa"), "test TSA", [ExtendedKeyUsageOID.TIME_STAMPING])
    with timestamp_authority(authority["cert"], authority["chain"], authority["key"]) as url:
        yield {"ca": authority["ca"], "url": url}


#: Formats the C2PA SDK signs into the file, and formats whose manifest goes into a NAME.EXT.c2pa sidecar.
SIGNED_EMBEDDED = [
    FIXTURES / "images" / "photo.jpg",
    FIXTURES / "images" / "overlay.png",
    FIXTURES / "images" / "plate.tif",
    FIXTURES / "images" / "still.webp",
    FIXTURES / "audio" / "tone.mp3",
    FIXTURES / "audio" / "tone.wav",
    FIXTURES / "audio" / "tone.flac",
    FIXTURES / "audio" / "tone.m4a",
    FIXTURES / "video" / "clip.mp4",
    FIXTURES / "video" / "clip.mov",
]
SIGNED_SIDECAR = [FIXTURES / "audio" / "tone.ogg", FIXTURES / "audio" / "tone.opus", FIXTURES / "video" / "clip.mkv"]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A test CA and signing certificate (``keys init``), made once per test module."""
    from aidisclose.carriers.c2pa.identity import make_test_ca

    return make_test_ca(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def identity(keys: dict[str, Path]) -> SigningIdentity:
    from aidisclose.carriers.c2pa.identity import SigningIdentity

    return SigningIdentity.from_files(keys["chain"], keys["key"])


def ctrl_c_reaches_it() -> None:
    """``preexec_fn`` for a child the test stops with SIGINT as Ctrl-C would.

    A shell starts background jobs with SIGINT ignored (as CI runners may start the suite), and a Python
    child that inherits the ignored signal never raises KeyboardInterrupt: put the default back.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def sparse_mp4(path: Path, extra: int) -> Path:
    """The bundled clip with ``extra`` more bytes (a hole: zeros) at the end of its mdat."""
    data = (FIXTURES / "video" / "clip.mp4").read_bytes()
    at = data.rindex(b"mdat") - 4  # the clip's last box
    size = struct.unpack(">I", data[at : at + 4])[0]
    with open(path, "wb") as out:
        out.write(data[:at] + struct.pack(">I", size + extra) + data[at + 4 :])
        out.truncate(out.tell() + extra)
    return path
