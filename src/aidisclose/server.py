"""``aidisclose server``: keep the tool loaded, so that each call of one user starts in milliseconds.

The server loads everything a command uses, then waits on a Unix socket in a folder only its user may
enter. Each call (``_launch``) is taken by a process forked for it alone, which takes on the call's
arguments, environment, working folder, umask and standard streams, runs the command line exactly as
the call's own process would, and sends back its exit status. Nothing one call does reaches another:
each starts from the server's pristine state, which no call changes. The server takes calls only from
processes of its own user, and only for the code it runs: after an upgrade it stops at the first call,
which runs in its own process. It stops on Ctrl-C, SIGTERM or SIGHUP, or after the idle time given.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import gc
import io
import os
import resource
import select
import signal
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .bounded import close_all_but
from .errors import DisclosureError
from .serving import (
    EXIT,
    GO,
    MAX_DESCRIPTORS,
    NOT_SERVED,
    PID,
    PROTOCOL,
    code_key,
    install_key,
    interpreter_key,
    loaded_environment,
    private_folder,
    socket_path,
)

#: A call's arguments and environment are bounded by the system's (a few MB); anything larger is no call.
MAX_CALL_BYTES = 64 << 20
_HEADER = len(PROTOCOL) + 8


def serve(
    path: Path | None, idle_seconds: float, ready: Callable[[str], None], command_line: Callable[[], None]
) -> None:
    """Listen at ``path`` (default: ``serving.socket_path()``) until stopped or idle for ``idle_seconds``
    (0: never), running each call by ``command_line`` (the CLI's ``main``, which reads ``sys.argv``);
    ``ready`` is told where once calls are taken, and why the server stops. DisclosureError if it cannot
    listen there."""
    if not hasattr(socket, "SO_PEERCRED"):
        raise DisclosureError(None, "the command server needs Linux: nothing else tells it who is calling")
    signal.pthread_sigmask(signal.SIG_SETMASK, set())  # a mask it was started with would reach every call
    where = (path if path is not None else Path(socket_path())).absolute()
    _private_folder_for(where)
    listener = _listen(where)
    ours = os.stat(where).st_ino
    try:
        _load()
        gc.freeze()  # the loaded tool stays shared, untouched, by every call's process
        server = _Server(code_key(), interpreter_key(), loaded_environment(dict(os.environb)), _context(os.getpid()))
        ready(f"listening on {where} (pid {os.getpid()}); calls of `aidisclose` by this user run here")
        ready(f"stopped: {_accept_calls(listener, server, idle_seconds, command_line)}")
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            if os.lstat(where).st_ino == ours:
                where.unlink()


@dataclass(frozen=True)
class _Server:
    """What a call must share with the server to be served."""

    code: bytes
    interpreter: bytes
    environment: list[bytes]
    context: bytes


def _private_folder_for(where: Path) -> None:
    folder = where.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DisclosureError(folder, f"cannot make the server's folder: {exc.strerror or exc}") from None
    if not private_folder(str(folder)):
        raise DisclosureError(
            folder,
            "is not a private folder of this user (owned by you, mode 0700, no symlink): others could "
            "reach the server, or pose as it",
            "give --socket a path in a folder only you may enter",
        )


def _listen(where: Path) -> socket.socket:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if os.path.lexists(where):
            if not stat.S_ISSOCK(os.lstat(where).st_mode):
                raise DisclosureError(where, "exists and is not a socket", "give --socket a path that is free")
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                probe.connect(str(where))
            except OSError:
                where.unlink()  # left by a server that was killed
            else:
                raise DisclosureError(where, "a server is already listening there", "stop it first (Ctrl-C or kill)")
            finally:
                probe.close()
        listener.bind(str(where))
        os.chmod(where, 0o600)
        listener.listen(128)
    except DisclosureError:
        listener.close()
        raise
    except OSError as exc:
        listener.close()
        raise DisclosureError(where, f"cannot listen there: {exc.strerror or exc}") from None
    return listener


def _load() -> None:
    """Import and build what commands use, so that no call pays for it: the modules, the deferred pydantic
    schemas, the metadata libraries and the C2PA SDK's native library."""
    from . import approve, check, credits, inspect, plan, stamp, watch  # noqa: F401
    from .carriers import bmff, exiv2, id3, riff, vorbis  # noqa: F401
    from .carriers.c2pa import reading, signing  # noqa: F401
    from .carriers.c2pa.sdk import sdk
    from .carriers.exiv2 import _lib
    from .report import html, inspect_text, machine, text  # noqa: F401

    _lib()
    sdk()
    for model in (inspect.InspectResult, check.FileCheck, check.CheckReport, reading.C2paInfo):
        model.model_rebuild()


#: What of a process the call would run under: its namespaces (mounts, network...), root (chroot), groups,
#: capabilities, seccomp and no-new-privileges, CPUs, nice value and scheduling policy, resource limits,
#: control group, OOM score adjustment and security label. A call is served only if all are the server's:
#: a sandboxed or limited caller is never run outside its box.
_STATUS_LINES = (
    "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp",
    "Seccomp_filters", "Cpus_allowed_list", "Mems_allowed_list",
)  # fmt: skip


def _context(pid: int) -> bytes:
    """The process context of ``pid`` (see _STATUS_LINES); OSError if it cannot be read (never served)."""
    proc = f"/proc/{pid}"
    parts = [f"{name} {os.readlink(f'{proc}/ns/{name}')}" for name in sorted(os.listdir(f"{proc}/ns"))]
    with open(f"{proc}/status", encoding="utf-8", errors="replace") as status:
        parts += [line for line in status if line.split(":", 1)[0] in _STATUS_LINES]
    parts.append(f"root {os.readlink(f'{proc}/root')}")  # a chroot
    with open(f"{proc}/stat", "rb") as stat_file:
        fields = stat_file.read().rsplit(b")", 1)[1].split()  # fields from the third (state) on
        parts.append(f"nice {fields[16].decode()} rt_priority {fields[37].decode()} policy {fields[38].decode()}")
    for name in ("limits", "cgroup", "oom_score_adj", "attr/current"):
        try:
            with open(f"{proc}/{name}", encoding="utf-8", errors="replace") as text_file:
                parts.append(text_file.read())
        except FileNotFoundError:
            parts.append(f"{name} -")
        except OSError as exc:
            if name != "attr/current":  # no security module: EINVAL
                raise
            parts.append(f"{name} {exc.errno}")
    return "\n".join(parts).encode()


class _Stop(Exception):
    pass


def _stop(_number: int, _frame: object) -> None:
    raise _Stop


#: At most this many calls at once; one more finds no server and runs in its own process.
MAX_CALLS = 256
#: A call that does not arrive whole within this long is not one.
CALL_SECONDS = 10.0
_ENDING = {signal.SIGTERM, signal.SIGHUP, signal.SIGINT}


def _accept_calls(
    listener: socket.socket, server: _Server, idle_seconds: float, command_line: Callable[[], None]
) -> str:
    """Serve until stopped; why it stopped."""
    children: set[int] = set()
    for number in _ENDING:
        signal.signal(number, _stop)
    last = time.monotonic()
    try:
        while True:
            if _reap(children):
                return "this install of aidisclose has changed; restart the server to serve it"
            if idle_seconds and not children and time.monotonic() - last >= idle_seconds:
                return f"no call for {idle_seconds / 60:g} minutes"
            if not select.select([listener], [], [], 1.0)[0]:
                continue
            try:
                call, _ = listener.accept()
            except OSError:
                continue
            last = time.monotonic()
            with call:
                peer = call.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
                if int.from_bytes(peer[4:8], sys.byteorder) != os.getuid() or len(children) >= MAX_CALLS:
                    continue  # another user's process (the folder should have kept it out), or too many
                # No signal may reach the forked process before it has dropped the server's handlers.
                signal.pthread_sigmask(signal.SIG_BLOCK, _ENDING)
                try:
                    pid = os.fork()
                    if pid == 0:
                        _run_call(call, listener, server, int.from_bytes(peer[:4], sys.byteorder), command_line)
                finally:
                    signal.pthread_sigmask(signal.SIG_UNBLOCK, _ENDING)
                children.add(pid)
    except _Stop:
        return "told to"


#: The exit status of a call's process that found this install's code changed: the server stops.
_CHANGED = 75


def _reap(children: set[int]) -> bool:
    """Forget the calls that have ended; whether one of them found the code changed."""
    changed = False
    for pid in list(children):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 0
        if done:
            children.discard(pid)
            changed |= os.WIFEXITED(status) and os.WEXITSTATUS(status) == _CHANGED
    return changed


def _run_call(
    call: socket.socket, listener: socket.socket, server: _Server, peer: int, command_line: Callable[[], None]
) -> None:
    """In a call's own process: take the call on, run it, send its exit status; never returns.

    A call that cannot be taken on (not this protocol, cut short, not for this server) is answered
    NOT_SERVED or not at all before the connection closes, as when no server is there: its caller runs it.
    Once the pid is sent and the caller's GO comes back, the call is this process's; it ends with an
    exit status sent back.
    """
    code = 2
    try:
        listener.close()
        # The call is its caller's: out of the server's session, so neither the server's terminal (Ctrl-C
        # where it was started) nor that terminal as /dev/tty reaches it; a passphrase is asked at the
        # caller's own terminal, its standard input, with the echo off (as getpass does with no /dev/tty).
        os.setsid()
        for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        taken = _read_call(call, server, peer)
        if isinstance(taken, int):
            code = taken
            return
        call.sendall(PID + os.getpid().to_bytes(4, "big"))
        call.settimeout(CALL_SECONDS)  # the caller waits 3 s for the pid, then GOes at once or never
        # The caller's descriptors come with its GO, not with the call: a server that is stopped (or one
        # that does not serve it) holds none of them, so no pipe of the caller's stays open through it.
        go, ancillary, _, _ = call.recvmsg(1, socket.CMSG_SPACE(4 * (MAX_DESCRIPTORS + 1)))
        fds = _descriptors_in(ancillary)
        if go != GO:
            code = 0  # the caller gave up waiting, and runs the call itself
            return
        if len(fds) != len(taken.descriptors) + 1:
            raise ValueError("not a call")
        call = _become(call, taken, fds)
        call.settimeout(None)
        finished = threading.Event()
        threading.Thread(target=_end_with_caller, args=(call, finished), daemon=True).start()
        try:
            code = _run(taken.argv, command_line)
        finally:
            finished.set()
            with contextlib.suppress(OSError):
                call.sendall(EXIT + code.to_bytes(4, "big"))
    finally:
        os._exit(code)


@dataclass(frozen=True)
class _Call:
    """A call as its caller sent it (see ``_launch._send``)."""

    argv: list[str]
    environment: dict[bytes, bytes]
    umask: int
    streams: list[str]  # encoding and error handler of stdin, stdout and stderr
    unbuffered: bool
    argv0: str
    package: str | None
    descriptors: list[tuple[int, bool]]  # the caller's open descriptors (number, inheritable), sent with GO


def _read_call(call: socket.socket, server: _Server, peer: int) -> _Call | int:
    """The call the caller sent; an exit status instead when it is not for this server (NOT_SERVED is sent:
    the caller runs it), _CHANGED when that is because this install's code changed."""
    deadline = time.monotonic() + CALL_SECONDS
    header = _received_by(call, _HEADER, deadline)
    size = int.from_bytes(header[len(PROTOCOL) :], "big")
    if len(header) != _HEADER or not header.startswith(PROTOCOL) or size > MAX_CALL_BYTES:
        raise ValueError("not a call")
    body = _received_by(call, size, deadline)
    if len(body) != size:
        raise ValueError("a call cut short")
    fixed = body.split(b"\0", 14)  # the fields _launch._send writes, in its order; then argv and environment
    if len(fixed) < 14:
        raise ValueError("not a call")
    code, interpreter, umask, unbuffered = fixed[:4]
    streams, (argv0, package, numbers, count) = fixed[4:10], fixed[10:14]
    argc = int(count)
    fields = fixed[14].split(b"\0") if len(fixed) > 14 else []
    argv, environment = fields[:argc], fields[argc:]
    if len(argv) != argc:
        raise ValueError("not a call")
    environ = dict(entry.partition(b"=")[::2] for entry in environment)
    if code != server.code:
        call.sendall(NOT_SERVED)
        same_install = code.startswith(install_key() + b"\n") and interpreter == server.interpreter
        return _CHANGED if same_install else 0
    descriptors = [(int(n), flag == b"1") for n, _, flag in (item.partition(b":") for item in numbers.split())]
    if (
        interpreter != server.interpreter
        or loaded_environment(environ) != server.environment
        or _context(peer) != server.context
        or not _placeable(descriptors)
    ):
        call.sendall(NOT_SERVED)  # made otherwise, or in another box (limits, namespaces...): run by its caller
        return 0
    return _Call(
        argv=[os.fsdecode(arg) for arg in argv],
        environment=environ,
        umask=int(umask),
        streams=[s.decode() for s in streams],
        unbuffered=unbuffered == b"1",
        argv0=os.fsdecode(argv0),
        package=os.fsdecode(package) or None,
        descriptors=descriptors,
    )


def _received_by(call: socket.socket, size: int, deadline: float) -> bytes:
    """``size`` bytes of the call, all of them by ``deadline`` (TimeoutError otherwise), fewer if it closes."""
    data = b""
    while len(data) < size:
        call.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = call.recv(min(size - len(data), 1 << 20))
        if not chunk:
            break
        data += chunk
    return data


def _descriptors_in(ancillary: list[tuple[int, int, bytes]]) -> list[int]:
    return [
        int.from_bytes(data[i : i + 4], sys.byteorder, signed=True)
        for level, kind, data in ancillary
        if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS)
        for i in range(0, len(data) - len(data) % 4, 4)
    ]


def _become(call: socket.socket, taken: _Call, fds: list[int]) -> socket.socket:
    """Become the caller's process: its descriptors, folder, umask, environment, program name, streams;
    the call's socket, at its new number."""
    line = _place_descriptors(call, fds, taken.descriptors)
    os.umask(taken.umask)
    os.environb.clear()
    os.environb.update(taken.environment)
    time.tzset()
    sys.argv[0] = taken.argv0
    main = sys.modules.get("__main__")
    if main is not None:
        main.__package__ = taken.package  # how Click names the program: `python -m aidisclose`
    _standard_streams(taken.streams, taken.unbuffered)
    return line


def _place_descriptors(call: socket.socket, received_fds: list[int], targets: list[tuple[int, bool]]) -> socket.socket:
    """Close every descriptor the server had; put the caller's at their numbers (inheritable as they were
    there) and change into the caller's folder (the last one received). The call's socket, moved above
    every number the caller uses (``_placeable``)."""
    above = max([call.fileno(), *received_fds, *(n for n, _ in targets)]) + 1
    moved = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, above) for fd in received_fds]
    line = socket.socket(fileno=fcntl.fcntl(call.fileno(), fcntl.F_DUPFD_CLOEXEC, above))
    call.detach()  # its number may be one of the caller's: closed below, never again by this object
    close_all_but(line.fileno(), *moved, start=0)
    for (number, inheritable), fd in zip(targets, moved[:-1], strict=True):
        os.dup2(fd, number, inheritable=inheritable)
    os.fchdir(moved[-1])
    for fd in moved:
        os.close(fd)
    return line


def _placeable(targets: list[tuple[int, bool]]) -> bool:
    """Whether the caller's descriptors can be put at their numbers with room above them for the moves
    (the descriptor limit is the caller's too: its context is the server's)."""
    room = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    highest = max([n for n, _ in targets], default=2)
    return room == resource.RLIM_INFINITY or highest + len(targets) + 16 < room


def _standard_streams(streams: list[str], unbuffered: bool) -> None:
    """New standard streams on descriptors 0-2 as the interpreter makes them, with the encodings and error
    handlers of the caller's: stdout line-buffered at a terminal, stderr always; unbuffered with -u."""
    encodings, errors = streams[0::2], streams[1::2]
    sys.stdin = _stream(0, "<stdin>", encodings[0], errors[0], False, False)
    sys.stdout = _stream(1, "<stdout>", encodings[1], errors[1], os.isatty(1), unbuffered)
    sys.stderr = _stream(2, "<stderr>", encodings[2], errors[2], True, unbuffered)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr  # type: ignore[misc]


def _stream(fd: int, name: str, encoding: str, errors: str, line_buffering: bool, unbuffered: bool) -> io.TextIOWrapper:
    """A standard stream over ``fd`` as the interpreter opens it: buffered by the descriptor's block size,
    but written straight through under ``-u`` (which leaves stdin buffered)."""
    direct = unbuffered and fd > 0
    buffer: Any = open(fd, "rb" if fd == 0 else "wb", buffering=0 if direct else -1, closefd=False)  # noqa: SIM115
    (buffer if direct else buffer.raw).name = name
    return io.TextIOWrapper(buffer, encoding, errors, newline="\n", line_buffering=line_buffering, write_through=direct)


def _end_with_caller(call: socket.socket, finished: threading.Event) -> None:
    """The caller's process is gone (killed, its terminal closed): the call ends as on a hang-up."""
    with contextlib.suppress(OSError):
        call.recv(1)
    if not finished.is_set():
        os.kill(os.getpid(), signal.SIGHUP)


def _run(argv: list[str], command_line: Callable[[], None]) -> int:
    """The command line's exit status for ``argv``, as the ``aidisclose`` process would end with it: what
    the interpreter does at exit (exit handlers, flushing its streams) included."""
    sys.argv[1:] = argv
    try:
        command_line()
        code = 0
    except SystemExit as done:
        code = _status(done.code)
    except KeyboardInterrupt:
        code = 128 + signal.SIGINT
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError) as exc:  # as the interpreter tells a flush that fails at exit
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.write(f"Exception ignored in: {stream!r}\n{type(exc).__name__}: {exc}\n")
                sys.stderr.flush()
            code = code or 120
    return code


def _status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
