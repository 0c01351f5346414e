"""``aidisclose server``: a call it serves behaves as the call's own process would, and only its user's.

Every test starts a real server (``aidisclose server --socket``) and runs the real ``aidisclose`` script
against it, beside the same call run in its own process (``AIDISCLOSE_SERVER=off``).
"""

from __future__ import annotations

import os
import pty
import re
import signal
import socket
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import EXAMPLE_RECORD, FIXTURES, ctrl_c_reaches_it

AIDISCLOSE = Path(sys.executable).with_name("aidisclose")
PHOTO = FIXTURES / "images" / "photo.jpg"


@dataclass
class Server:
    process: subprocess.Popen[str]
    socket: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "AIDISCLOSE_SERVER"}
        return {**env, "AIDISCLOSE_SOCKET": str(self.socket), **extra}

    def children(self) -> list[int]:
        """The processes the server forked for calls, still running."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.process.pid and fields[0] != "Z":
                    found.append(int(entry.name))
        return found


def start_server(folder: Path, *options: str) -> Server:
    folder.mkdir(mode=0o700, exist_ok=True)
    where = folder / "server.sock"
    process = subprocess.Popen(
        [str(AIDISCLOSE), "server", "--socket", str(where), *options],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AIDISCLOSE_SERVER": "off"},
        start_new_session=True,  # a process group of its own, as a server started at a terminal has
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    assert "listening on" in line, line + process.stderr.read()
    return Server(process, where)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start_server(tmp_path / "run")
    yield running
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=20) == 0
    assert not running.socket.exists()  # removed on the way out


def run(env: dict[str, str], *args: str | Path, **options: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AIDISCLOSE), *map(str, args)], capture_output=True, text=True, env=env, timeout=120, **options
    )  # type: ignore[call-overload,no-any-return]


def alone(**extra: str) -> dict[str, str]:
    return {**os.environ, "AIDISCLOSE_SERVER": "off", **extra}


def same_report(text: str) -> str:
    """A check report without what differs from run to run: its times."""
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "-", text)
    text = re.sub(r'"duration_s": [0-9.e-]+', '"duration_s": 0', text)
    return re.sub(r"in [0-9.]+ s, [0-9.]+ files/s", "in - s", text)


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("inspect", PHOTO, "-f", "json"),
        ("inspect", PHOTO),
        ("check", PHOTO, "-f", "json"),  # fails the default policy: exit 1
        ("check", FIXTURES / "images", "-f", "csv", "--jobs", "2"),  # a pool of workers under the served call
        ("inspect", FIXTURES / "no-such-file.jpg"),  # exit 2, one line naming it
        ("check", PHOTO, "--policy", "no-such-policy"),
        ("stamp", "--help"),
        ("no-such-command",),
    ],
    ids=lambda a: " ".join(str(x).replace(str(FIXTURES), "F") for x in a),
)
def test_a_served_call_writes_and_ends_as_its_own_process_would(server: Server, args: tuple[str, ...]) -> None:
    served = run(server.env(COLUMNS="80"), *args)
    here = run(alone(COLUMNS="80"), *args)
    assert (served.returncode, same_report(served.stdout), same_report(served.stderr)) == (
        here.returncode,
        same_report(here.stdout),
        same_report(here.stderr),
    )


def test_a_served_call_loads_nothing_of_the_tool(server: Server) -> None:
    """The call's process imports no part of the tool (the server ran it); with no server, it does."""
    command = [sys.executable, "-X", "importtime", "-m", "aidisclose", "inspect", str(PHOTO), "-f", "json"]
    served = subprocess.run(command, capture_output=True, text=True, env=server.env(), timeout=60)
    here = subprocess.run(command, capture_output=True, text=True, env=alone(), timeout=60)
    assert served.returncode == here.returncode == 0
    assert served.stdout == here.stdout
    imported = {line.rsplit("|", 1)[1].strip() for line in served.stderr.splitlines() if "|" in line}
    assert "aidisclose._launch" in imported
    assert not imported & {"typer", "pydantic", "aidisclose.cli", "aidisclose.inspect", "socket", "signal"}
    assert "| typer" in here.stderr


def test_a_served_call_runs_in_the_callers_folder_environment_and_umask(server: Server, tmp_path: Path) -> None:
    for name, env in (("served", server.env(TZ="Asia/Tokyo")), ("alone", alone(TZ="Asia/Tokyo"))):
        out = tmp_path / name
        out.mkdir()
        (out / "in.jpg").write_bytes(PHOTO.read_bytes())
        done = run(env, "stamp", "in.jpg", "-r", EXAMPLE_RECORD, "-o", "out", cwd=out, umask=0o027)
        assert done.returncode == 0, done.stderr
    served, here = (tmp_path / "served" / "out" / "in.jpg"), (tmp_path / "alone" / "out" / "in.jpg")
    assert served.read_bytes() == here.read_bytes()
    # made under the caller's umask: the output folder (the stamped file keeps its source's mode)
    assert served.parent.stat().st_mode & 0o777 == here.parent.stat().st_mode & 0o777 == 0o750
    # an environment variable the tool reads is the caller's: a tiny parse limit refuses the file alike
    limited = {"AIDISCLOSE_PARSE_MEGABYTES": "0.001"}
    first = FIXTURES / "foreign" / "CA_ct.jpg"  # signed: the SDK reads it under the limits
    served_run = run(server.env(**limited), "inspect", first, "-f", "json")
    alone_run = run(alone(**limited), "inspect", first, "-f", "json")
    assert (served_run.returncode, served_run.stderr) == (alone_run.returncode, alone_run.stderr)
    assert served_run.returncode == 2 and "limit" in served_run.stderr


def test_a_served_call_reads_the_callers_standard_input(server: Server, tmp_path: Path) -> None:
    outputs = []
    for name, env in (("served", server.env()), ("alone", alone())):
        out = tmp_path / name
        done = run(env, "stamp", PHOTO, "-r", "/dev/stdin", "-o", out, input=EXAMPLE_RECORD.read_text())
        assert done.returncode == 0, done.stderr
        outputs.append((out / "photo.jpg").read_bytes())
    assert outputs[0] == outputs[1]


def _blocked(env: dict[str, str]) -> subprocess.Popen[str]:
    """A call that waits on its standard input (the record), which the test never closes."""
    return subprocess.Popen(
        [str(AIDISCLOSE), "stamp", str(PHOTO), "-r", "/dev/stdin", "-o", "/nonexistent-out"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=ctrl_c_reaches_it,
    )


def _until(condition: object, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_caller_ends_the_served_call_as_it_would_end_its_own(server: Server, number: int) -> None:
    codes = []
    for env in (server.env(), alone()):
        call = _blocked(env)
        if env is not None and "AIDISCLOSE_SOCKET" in env:
            _until(lambda: server.children())
        else:
            time.sleep(1.0)  # loaded and waiting on its input
        call.send_signal(number)
        call.communicate(timeout=30)
        codes.append(call.returncode)
    assert codes[0] == codes[1]
    _until(lambda: not server.children())


def test_a_served_call_ends_when_its_caller_is_killed(server: Server) -> None:
    call = _blocked(server.env())
    _until(lambda: server.children())
    call.kill()  # no chance to pass anything on: the call's process sees its caller gone
    call.wait()
    _until(lambda: not server.children())


def test_a_call_for_changed_code_runs_in_its_own_process_and_the_server_stops(server: Server) -> None:
    """The first call after an upgrade (another key for the same install) is not served; the server stops."""
    script = (
        "import sys, aidisclose._launch as launch; real = launch.code_key; "
        "launch.code_key = lambda: real() + b'\\n/changed.py 1 1'; sys.argv[0] = 'aidisclose'; launch.main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "inspect", str(PHOTO), "-f", "json"],
        capture_output=True,
        text=True,
        env=server.env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == run(alone(), "inspect", PHOTO, "-f", "json").stdout
    assert server.process.wait(timeout=20) == 0


def test_a_call_of_another_install_runs_in_its_own_process_and_the_server_stays(server: Server) -> None:
    script = (
        "import sys, aidisclose._launch as launch; real = launch.code_key; "
        "launch.code_key = lambda: b'/elsewhere\\n' + real(); sys.argv[0] = 'aidisclose'; launch.main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "--version"], capture_output=True, text=True, env=server.env(), timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("aidisclose ")
    assert server.process.poll() is None
    assert run(server.env(), "--version").returncode == 0


def test_a_folder_others_may_enter_is_neither_served_nor_used(server: Server, tmp_path: Path) -> None:
    server.socket.parent.chmod(0o755)
    try:
        command = [sys.executable, "-X", "importtime", "-m", "aidisclose", "--version"]
        done = subprocess.run(command, capture_output=True, text=True, env=server.env(), timeout=60)
        assert done.returncode == 0
        assert "| typer" in done.stderr  # it ran in its own process, never handing over its environment
    finally:
        server.socket.parent.chmod(0o700)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    refused = run(alone(), "server", "--socket", shared / "s.sock")
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "private folder" in refused.stderr
    assert not (shared / "s.sock").exists()


def test_one_server_per_socket_and_a_dead_ones_socket_is_taken_over(server: Server, tmp_path: Path) -> None:
    second = run(alone(), "server", "--socket", server.socket)
    assert second.returncode == 2 and "already listening" in second.stderr
    folder = tmp_path / "left"
    folder.mkdir(mode=0o700)
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(folder / "server.sock"))  # what a killed server leaves: a socket nobody listens on
    left.close()
    taken = start_server(folder)
    try:
        assert run(taken.env(), "--version").returncode == 0
    finally:
        taken.process.terminate()
        taken.process.wait(timeout=20)


def test_garbage_on_the_socket_harms_no_later_call(server: Server) -> None:
    for junk in (b"", b"hello", b"aidisclose-serve/1\0" + (1 << 40).to_bytes(8, "big"), os.urandom(4096)):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as raw:
            raw.connect(str(server.socket))
            raw.sendall(junk)
            raw.shutdown(socket.SHUT_WR)
            try:
                reply = raw.recv(16)
            except ConnectionResetError:  # closed with the junk unread
                reply = b""
            assert reply == b""  # no reply: not a call
    _until(lambda: not server.children())
    assert run(server.env(), "--version").returncode == 0


def test_an_idle_server_stops_by_itself(tmp_path: Path) -> None:
    idle = start_server(tmp_path / "run", "--idle-minutes", "0.02")
    assert idle.process.wait(timeout=30) == 0
    assert not idle.socket.exists()


def test_a_served_call_asks_for_a_passphrase_at_the_callers_terminal_unechoed(
    server: Server, tmp_path: Path, keys: dict[str, Path]
) -> None:
    """The served process has no terminal of its own: it asks at the caller's (its standard input), with the
    echo off, as a call run alone does; the typed passphrase is never shown."""
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(keys["key"].read_bytes(), password=None)
    locked = tmp_path / "locked.pem"
    locked.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret-words"),
        )
    )
    for name, env in (("served", server.env()), ("alone", alone())):
        primary, secondary = pty.openpty()
        call = subprocess.Popen(
            [
                str(AIDISCLOSE),
                "stamp",
                str(PHOTO),
                "-r",
                str(EXAMPLE_RECORD),
                "-o",
                str(tmp_path / name),
                "--sign",
                "--sign-cert",
                str(keys["chain"]),
                "--sign-key",
                str(locked),
            ],
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            env=env,
            start_new_session=True,
        )
        os.close(secondary)
        shown = b""
        while b"passphrase for" not in shown:
            shown += os.read(primary, 4096)
        # the prompt's text comes before the echo is turned off (which drops what was typed before)
        _until(lambda fd=primary: not termios.tcgetattr(fd)[3] & termios.ECHO)
        os.write(primary, b"s3cret-words\n")
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the call has closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        assert call.wait(timeout=60) == 0, shown
        os.close(primary)
        assert b"s3cret-words" not in shown, (name, shown)
        assert (tmp_path / name / "photo.jpg").exists()


def test_a_ctrl_c_at_the_servers_terminal_reaches_no_served_call(server: Server) -> None:
    """A served call belongs to its caller: the server's own terminal (its process group) cannot stop it."""
    call = _blocked(server.env())
    _until(lambda: server.children())
    os.killpg(server.process.pid, signal.SIGINT)  # Ctrl-C where the server was started
    assert server.process.wait(timeout=20) == 0
    time.sleep(0.5)
    assert call.poll() is None  # still waiting on its input
    _, err = call.communicate(input="", timeout=30)  # the record it reads is empty: refused, as alone
    alone_run = run(alone(), "stamp", PHOTO, "-r", "/dev/stdin", "-o", "/nonexistent-out", input="")
    assert (call.returncode, err) == (alone_run.returncode, alone_run.stderr)


def _ran_alone(done: subprocess.CompletedProcess[str]) -> bool:
    """Whether a call made with ``python -X importtime`` loaded the tool itself (was not served)."""
    return "| typer" in done.stderr


def _importing(env: dict[str, str], *args: str, **options: object) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-X", "importtime", "-m", "aidisclose", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, **options)  # type: ignore[call-overload,no-any-return]


def test_a_caller_in_another_box_is_not_served(server: Server, tmp_path: Path) -> None:
    """Limits, nice value, environment read at load: a call made otherwise than the server runs alone,
    never outside its limits (a file-size limit holds; served, the whole report would be written)."""
    assert not _ran_alone(_importing(server.env(), "--version"))
    assert _ran_alone(_importing(server.env(), "--version", preexec_fn=lambda: os.nice(3)))
    assert _ran_alone(_importing(server.env(TYPER_USE_RICH="0"), "--version"))
    assert _ran_alone(_importing(server.env(PYTHONPATH=str(tmp_path)), "--version"))
    import resource

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    sizes = []
    for name, env in (("served", server.env()), ("alone", alone())):
        report = tmp_path / f"{name}.json"
        with open(report, "w") as out:
            subprocess.run(
                [str(AIDISCLOSE), "check", str(FIXTURES / "images"), "-f", "json"],
                stdout=out, stderr=subprocess.DEVNULL, env=env, preexec_fn=small_files, timeout=60,
            )  # fmt: skip
        sizes.append(report.stat().st_size)
    assert sizes[0] == sizes[1] == 2048


def test_a_served_call_reads_the_descriptors_it_names(server: Server, tmp_path: Path) -> None:
    """``-r <(...)`` and ``/dev/fd/N``: the caller's descriptors are the call's, and no other is open."""
    outputs = []
    for name, env in (("served", server.env()), ("alone", alone())):
        read, write = os.pipe()
        os.write(write, EXAMPLE_RECORD.read_bytes())
        os.close(write)
        out = tmp_path / name
        done = run(env, "stamp", PHOTO, "-r", f"/dev/fd/{read}", "-o", out, pass_fds=(read,))
        os.close(read)
        assert done.returncode == 0, done.stderr
        outputs.append((out / "photo.jpg").read_bytes())
    assert outputs[0] == outputs[1]


def test_a_stopped_server_lets_the_call_run_alone_and_never_runs_it_twice(server: Server, tmp_path: Path) -> None:
    server.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        done = run(server.env(), "stamp", PHOTO, "-r", EXAMPLE_RECORD, "-o", tmp_path / "out")
        assert done.returncode == 0 and time.monotonic() - started < 30
        written = (tmp_path / "out" / "photo.jpg").stat().st_mtime_ns
    finally:
        server.process.send_signal(signal.SIGCONT)
    time.sleep(1.0)  # the server takes the waiting call now: its process finds the caller gone
    _until(lambda: not server.children())
    assert (tmp_path / "out" / "photo.jpg").stat().st_mtime_ns == written


def test_a_served_call_ends_as_its_own_would_on_a_full_disk_and_a_quit(server: Server) -> None:
    ends = []
    for env in (server.env(), alone()):
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [str(AIDISCLOSE), "inspect", str(PHOTO), "-f", "json"],
                stdout=full, stderr=subprocess.PIPE, text=True, env=env, timeout=60,
            )  # fmt: skip
        ends.append((done.returncode, done.stderr.splitlines()[-1]))
    assert ends[0] == ends[1] and "No space left on device" in ends[0][1] and ends[0][0] != 0
    codes = []
    for env in (server.env(), alone()):
        call = _blocked(env)
        time.sleep(1.0)
        call.send_signal(signal.SIGQUIT)
        call.communicate(timeout=30)
        codes.append(call.returncode)
    assert codes == [-signal.SIGQUIT, -signal.SIGQUIT]


def test_python_m_aidisclose_is_named_so_when_served(server: Server) -> None:
    command = [sys.executable, "-m", "aidisclose", "inspect", "--help"]
    served = subprocess.run(command, capture_output=True, text=True, env=server.env(COLUMNS="80"), timeout=60)
    here = subprocess.run(command, capture_output=True, text=True, env=alone(COLUMNS="80"), timeout=60)
    assert served.stdout == here.stdout and "python -m aidisclose" in served.stdout


def test_every_descriptor_of_the_caller_is_the_calls_whatever_its_number(server: Server) -> None:
    """Numbers the server's own socket or moves use, and one next to the descriptor limit, are the caller's."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    numbers = [*range(3, 13), soft - 2]

    def open_them() -> None:
        for number in numbers:
            os.dup2(os.open(PHOTO, os.O_RDONLY), number)

    args = [str(AIDISCLOSE), "inspect", *(f"/dev/fd/{n}" for n in numbers), "-f", "json"]
    served, here = (
        # close_fds would close them after preexec_fn; what the test process holds is non-inheritable
        subprocess.run(args, capture_output=True, text=True, env=env, preexec_fn=open_them, close_fds=False, timeout=60)
        for env in (server.env(), alone())
    )
    assert (served.returncode, served.stdout.count('"format": "jpeg"')) == (0, len(numbers)), served.stderr
    assert served.stdout == here.stdout


def test_no_descriptor_of_the_servers_reaches_a_call(tmp_path: Path) -> None:
    def spare() -> None:  # the server holds the photo open at 9
        os.dup2(os.open(PHOTO, os.O_RDONLY), 9)

    folder = tmp_path / "run"
    folder.mkdir(mode=0o700)
    where = folder / "server.sock"
    process = subprocess.Popen(
        [str(AIDISCLOSE), "server", "--socket", str(where)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=alone(), start_new_session=True, preexec_fn=spare, close_fds=False,
    )  # fmt: skip
    assert process.stderr is not None and "listening" in process.stderr.readline()
    try:
        served = run({**alone(), "AIDISCLOSE_SERVER": "", "AIDISCLOSE_SOCKET": str(where)}, "inspect", "/dev/fd/9")
        here = run(alone(), "inspect", "/dev/fd/9")
        assert (served.returncode, served.stderr) == (here.returncode, here.stderr) and here.returncode == 2
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_a_caller_the_oom_killer_would_pick_first_is_not_served(server: Server) -> None:
    def likelier() -> None:
        Path("/proc/self/oom_score_adj").write_text("500")

    assert _ran_alone(_importing(server.env(), "--version", preexec_fn=likelier))
