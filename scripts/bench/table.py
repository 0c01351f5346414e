#!/usr/bin/env python3
"""Every row of the performance table, side by side in one run: median wall time, ratio, peak memory.

Each row runs its commands alternately (one of each, then again) RUNS times in fresh processes;
peak memory is /usr/bin/time's maximum resident set size, which counts the largest process of
the command's tree (aidisclose's bounded helper included, which is where the C2PA SDK runs).
Sources are byte-compiled first, as an installed package has them. Rows:

  one-jpeg     `aidisclose inspect one.jpg -f json` vs `exiftool -json one.jpg` (and, as the floor, an
               interpreter that only imports Typer and pydantic)
  ...          one-jpeg, check-1000 and in-place also time each aidisclose call served by `aidisclose server`
               (started for the run); its peak memory is the server's process's, which this does not count
  check-1000   `aidisclose check` of 1,000 small mixed files vs `exiftool -json -r` (corpus.py)
  check-10000  peak memory of `check` over 10,000 of them against 1,000 (--big; builds 10,000 files)
  in-place     `stamp --in-place` of a 1 GiB MP4 (a fresh copy each run) vs ExifTool's rewrite of it
  sign-mp4     `stamp --sign` of a 600 MB MP4 vs `sha256sum` + `cp` of it; `inspect` of the signed file
  sign-wav     `stamp --sign` of a 1.15 GB WAV vs `sha256sum` + `cp` of it (its data chunk is sparse:
               the memory is real, reading it costs less than a WAV on disk)

    .venv/bin/python scripts/bench/table.py [--runs 5] [--only ROW ...] [--big] [--work DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORD = ROOT / "fixtures" / "example-record.toml"
CLI = [sys.executable, "-c", "import sys; from aidisclose.cli import main; sys.argv[0] = 'aidisclose'; main()"]
#: A call as the `aidisclose` script makes it: served by the command server the run starts (`served`).
SERVED = [sys.executable, "-m", "aidisclose"]
SERVED_ROWS = {"one-jpeg", "check-1000", "in-place"}
STACK = "import typer, typer.main, pydantic; from pydantic import BaseModel"
DST = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"


@dataclass
class Variant:
    """One command of a row; ``before`` runs untimed before each run (a fresh copy to stamp, say)."""

    command: Callable[[int], list[str]]
    before: Callable[[int], object] = lambda _run: None
    env: dict[str, str] = field(default_factory=dict)
    codes: tuple[int, ...] = (0,)
    served: bool = False  # run by the command server: its memory is the server's process's, not counted here
    seconds: list[float] = field(default_factory=list)
    peaks: list[int] = field(default_factory=list)  # KiB


def measure(variant: Variant, run: int, work: Path) -> None:
    variant.before(run)
    report = work / "time.txt"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **variant.env}
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", "-o", str(report), *variant.command(run)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        check=False,
    )
    variant.seconds.append(time.perf_counter() - start)
    if done.returncode not in variant.codes:
        raise SystemExit(f"{variant.command(run)[:6]} exited {done.returncode}: {done.stderr[-400:]}")
    variant.peaks.append(int(report.read_text().split()[-1]))


def row(title: str, variants: dict[str, Variant], runs: int, work: Path, base: str | None) -> None:
    for run in range(runs):
        for variant in variants.values():  # alternating
            measure(variant, run, work)
    print(f"\n{title} (median of {runs}, alternating)")
    reference = statistics.median(variants[base].seconds) if base else None
    for name, variant in variants.items():
        median = statistics.median(variant.seconds)
        ratio = f"{median / reference:5.2f}x" if reference else ""
        peak = "in the server" if variant.served else f"{max(variant.peaks) / 1024:7.0f} MB"
        print(f"  {name:48} {median:8.3f} s {ratio:>7}   peak {peak}", flush=True)


@contextmanager
def command_server(work: Path) -> Iterator[dict[str, str]]:
    """`aidisclose server` on a socket of the run's own; the environment that has a call served by it."""
    folder = work / "server"
    folder.mkdir(mode=0o700, exist_ok=True)
    where = folder / "server.sock"
    env = {**_env(), "AIDISCLOSE_SERVER": "off"}
    server = subprocess.Popen([*CLI, "server", "--socket", str(where)], stderr=subprocess.PIPE, text=True, env=env)
    assert server.stderr is not None
    line = server.stderr.readline()
    if "listening" not in line:
        raise SystemExit(f"the command server did not start: {line}{server.stderr.read()}")
    try:
        yield {"AIDISCLOSE_SOCKET": str(where), "AIDISCLOSE_SERVER": ""}
    finally:
        server.terminate()
        server.wait()


def served(variant: Variant, env: dict[str, str]) -> Variant:
    """``variant`` (a call of CLI) as a call the command server serves (``env`` from ``command_server``)."""
    command = variant.command
    return Variant(lambda run: [*SERVED, *command(run)[len(CLI) :]], variant.before, env, variant.codes, served=True)


def grow_mdat(source: Path, target: Path, extra: int, dense: bool) -> None:
    """``source`` (an MP4/MOV) with its mdat grown by ``extra`` bytes: pseudo-random, or a sparse hole."""
    data = source.read_bytes()
    at = 0
    while data[at + 4 : at + 8] != b"mdat":
        at += struct.unpack(">I", data[at : at + 4])[0]
    size = struct.unpack(">I", data[at : at + 4])[0]
    with open(target, "wb") as out:
        out.write(data[:at] + struct.pack(">I", size + extra) + data[at + 4 : at + size])
        if dense:
            block = os.urandom(1 << 20)
            for _ in range(extra >> 20):
                out.write(block)
        else:
            out.seek(extra, os.SEEK_CUR)
        out.write(data[at + size :])


def sparse_wav(target: Path, data_bytes: int) -> None:
    fmt = b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, 48000, 192000, 4, 16)
    with open(target, "wb") as out:
        out.write(
            b"RIFF" + struct.pack("<I", len(fmt) + 8 + data_bytes) + fmt + b"data" + struct.pack("<I", data_bytes)
        )
        out.truncate(out.tell() + data_bytes)


def _durable_copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    with open(target, "rb") as written:
        os.fsync(written.fileno())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--big", action="store_true", help="also the 10,000-file memory row")
    parser.add_argument("--work", type=Path, help="work here and keep it (corpora are reused)")
    args = parser.parse_args()
    for tool in ("exiftool", "sha256sum"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    work = args.work or Path(tempfile.mkdtemp(prefix="aidisclose-table-"))
    work.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only) if args.only else {"one-jpeg", "check-1000", "in-place", "sign-mp4", "sign-wav"}
    if args.big:
        wanted.add("check-10000")
    keys = work / "keys"
    if not keys.exists():
        subprocess.run([*CLI, "keys", "init", str(keys)], check=True, capture_output=True, env=_env())
    sign = ["--sign", "--sign-cert", str(keys / "chain.pem"), "--sign-key", str(keys / "key.pem")]
    runs = args.runs
    stack = ExitStack()
    try:
        via_server = stack.enter_context(command_server(work)) if wanted & SERVED_ROWS else {}
        if "one-jpeg" in wanted:
            jpeg = str(ROOT / "fixtures" / "images" / "photo.jpg")
            inspect = Variant(lambda _r: [*CLI, "inspect", jpeg, "-f", "json"])
            check = Variant(lambda _r: [*CLI, "check", jpeg, "-f", "json"], codes=(0, 1))
            row(
                "one JPEG",
                {
                    "aidisclose inspect one.jpg -f json": inspect,
                    "  the same, served by `aidisclose server`": served(inspect, via_server),
                    "aidisclose check one.jpg -f json": check,
                    "  the same, served by `aidisclose server` ": served(check, via_server),
                    "aidisclose --version": Variant(lambda _r: [*CLI, "--version"]),
                    # the floor of any command that reads a record: the interpreter, Typer and pydantic alone
                    "python: import typer, pydantic": Variant(lambda _r: [sys.executable, "-c", STACK]),
                    "exiftool -json one.jpg": Variant(lambda _r: ["exiftool", "-json", jpeg]),
                },
                runs,
                work,
                "exiftool -json one.jpg",
            )
        corpora = {n: work / f"corpus-{n}" for n in (1000, 10000)}
        for count in (1000, 10000):
            if f"check-{count}" in wanted and not corpora[count].exists():
                print(f"building {count} files in {corpora[count]} ...", flush=True)
                script = str(ROOT / "scripts" / "bench" / "corpus.py")
                subprocess.run(
                    [sys.executable, script, str(corpora[count]), "--files", str(count)], check=True, env=_env()
                )
        if "check-1000" in wanted:
            corpus = str(corpora[1000])
            whole = Variant(lambda _r: [*CLI, "check", corpus, "-f", "json"], codes=(0, 1))
            row(
                "check of 1,000 small mixed files",
                {
                    "aidisclose check -f json": whole,
                    "  the same, served by `aidisclose server`": served(whole, via_server),
                    "exiftool -json -r": Variant(lambda _r: ["exiftool", "-json", "-r", corpus], codes=(0, 1)),
                },
                runs,
                work,
                "exiftool -json -r",
            )
        if "check-10000" in wanted:
            row(
                "peak memory of check: 10,000 files against 1,000",
                {
                    f"aidisclose check -f json ({n:,} files)": Variant(
                        lambda _r, n=n: [*CLI, "check", str(corpora[n]), "-f", "json"], codes=(0, 1)
                    )
                    for n in (1000, 10000)
                },
                max(3, runs // 2),
                work,
                "aidisclose check -f json (1,000 files)",
            )
        if "in-place" in wanted:
            big = work / "big-1g.mp4"
            if not big.exists():
                grow_mdat(ROOT / "fixtures" / "video" / "clip.mp4", big, 1 << 30, dense=True)
            victim = work / "victim.mp4"
            in_place = Variant(
                lambda _r: [*CLI, "stamp", str(victim), "-r", str(RECORD), "--in-place"],
                # the copy made durable first: stamp fsyncs what it edits, and must not be timed
                # flushing the benchmark's own fresh 1 GiB copy out of the page cache
                before=lambda _r: _durable_copy(big, victim),
            )
            row(
                "1 GiB MP4",
                {
                    "aidisclose stamp --in-place": in_place,
                    "  the same, served by `aidisclose server`": served(in_place, via_server),
                    "exiftool rewrite (-o)": Variant(
                        lambda _r: [
                            "exiftool",
                            "-q",
                            f"-XMP-iptcExt:DigitalSourceType={DST}",
                            "-o",
                            str(work / "x.mp4"),
                            str(big),
                        ],
                        before=lambda _r: (work / "x.mp4").unlink(missing_ok=True),
                    ),
                },
                runs,
                work,
                "exiftool rewrite (-o)",
            )
            victim.unlink(missing_ok=True)
            (work / "x.mp4").unlink(missing_ok=True)
        if "sign-mp4" in wanted:
            big = work / "big-600m.mp4"
            if not big.exists():
                grow_mdat(ROOT / "fixtures" / "video" / "clip.mp4", big, 600 << 20, dense=True)
            out = work / "signed"
            copy = work / "copy.mp4"
            row(
                "600 MB MP4",
                {
                    "sha256sum + cp": Variant(
                        lambda _r: ["sh", "-c", f"sha256sum '{big}' >/dev/null && cp '{big}' '{copy}'"],
                        before=lambda _r: copy.unlink(missing_ok=True),
                    ),
                    "aidisclose stamp --sign -o DIR": Variant(
                        lambda _r: [*CLI, "stamp", str(big), "-r", str(RECORD), "-o", str(out), *sign],
                        before=lambda _r: shutil.rmtree(out, ignore_errors=True),
                    ),
                    "aidisclose inspect (signed) -f json": Variant(
                        lambda _r: [*CLI, "inspect", str(out / big.name), "-f", "json"]
                    ),
                },
                runs,
                work,
                "sha256sum + cp",
            )
            copy.unlink(missing_ok=True)
        if "sign-wav" in wanted:
            wav = work / "master-1150m.wav"
            if not wav.exists():
                sparse_wav(wav, 1_150_000_000)
            out = work / "signed-wav"
            copy = work / "copy.wav"
            fresh = lambda _r: shutil.rmtree(out, ignore_errors=True)  # noqa: E731
            command = lambda _r: [*CLI, "stamp", str(wav), "-r", str(RECORD), "-o", str(out), *sign]  # noqa: E731
            row(
                "1.15 GB WAV (sparse data chunk; the copies written are not sparse)",
                {
                    "sha256sum + cp --sparse=never": Variant(
                        lambda _r: ["sh", "-c", f"sha256sum '{wav}' >/dev/null && cp --sparse=never '{wav}' '{copy}'"],
                        before=lambda _r: copy.unlink(missing_ok=True),
                    ),
                    "aidisclose stamp --sign -o DIR": Variant(command, before=fresh),
                },
                max(3, runs // 2),
                work,
                "sha256sum + cp --sparse=never",
            )
            shutil.rmtree(out, ignore_errors=True)
            copy.unlink(missing_ok=True)
    finally:
        stack.close()
        if not args.work:
            shutil.rmtree(work)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


if __name__ == "__main__":
    main()
