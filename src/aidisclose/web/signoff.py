"""The QC sign-off, through its command line only: ``aidisclose approve`` and ``aidisclose signoff verify``.

The web app signs off a delivery exactly as a person at a terminal does: it runs the command in a
child process (this interpreter, ``-m aidisclose``, an argument list, no shell), with a time limit, and
shows what the command said and its exit code. Nothing here depends on how the sign-off is built.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

#: A sign-off re-checks every file it approves: a large delivery takes a while, but never for ever.
SIGNOFF_SECONDS = 600


@dataclass(frozen=True)
class CommandRun:
    """What one run of the command line said, and how it ended."""

    args: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


@dataclass(frozen=True)
class SigningFiles:
    """The certificate chain and key the sign-off is signed with."""

    cert: Path
    key: Path


def _run(args: Sequence[str], cwd: Path, seconds: float = SIGNOFF_SECONDS) -> CommandRun:
    command = [sys.executable, "-m", "aidisclose", *args]
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=seconds,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return CommandRun(tuple(args), 2, "", f"aidisclose {args[0]}: stopped after {seconds:.0f} s")
    except OSError as exc:
        return CommandRun(tuple(args), 2, "", f"aidisclose {args[0]}: could not run: {exc}")
    return CommandRun(tuple(args), done.returncode, done.stdout, done.stderr)


def approve(
    paths: Sequence[Path],
    policies: Sequence[str],
    reviewer: str,
    signoff: Path,
    cwd: Path,
    role: str | None = None,
    notes: str | None = None,
    signing: SigningFiles | None = None,
    trust: Path | None = None,
) -> CommandRun:
    """``aidisclose approve PATH... --policy P... --reviewer NAME [--role] [--notes] [--sign ...] --signoff OUT``.

    ``paths`` are absolute (the app resolves every path under its root), so none reads as an option.
    """
    args = ["approve"]
    for policy in policies:
        args += ["--policy", policy]
    args += ["--reviewer", reviewer]
    if role:
        args += ["--role", role]
    if notes:
        args += ["--notes", notes]
    if signing is not None:
        args += ["--sign", "--sign-cert", str(signing.cert), "--sign-key", str(signing.key)]
    if trust is not None:
        args += ["--trust", str(trust)]
    args += ["--signoff", str(signoff), "--format", "json", *(str(p) for p in paths)]
    return _run(args, cwd)


def verify(
    signoff: Path, cwd: Path, trust: Path | None = None, against: Path | None = None, listed_only: bool = False
) -> CommandRun:
    """``aidisclose signoff verify OUT.json [--trust CA.pem] [--against DIR [--listed-only]]``."""
    args = ["signoff", "verify", str(signoff)]
    if trust is not None:
        args += ["--trust", str(trust)]
    if against is not None:
        args += ["--against", str(against)] + (["--listed-only"] if listed_only else [])
    return _run(args, cwd)
