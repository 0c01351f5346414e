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
import gc
import io
import os
import select
import signal
import socket
import stat
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .errors import DisclosureError
from .serving import EXIT, OTHER_CODE, PID, PROTOCOL, code_key, private_folder, socket_path

#: A call's arguments and environment are bounded by the system's (a few MB); anything larger is no call.
MAX_CALL_BYTES = 64 << 20
_HEADER = len(PROTOCOL) + 8


def serve(
    path: Path | None, idle_seconds: float, ready: Callable[[str], None], command_line: Callable[[], None]
) -> None:
    """Listen at ``path`` (default: ``serving.socket_path()``) until stopped or idle for ``idle_seconds``
    (0: never), running each call by ``command_line`` (the CLI's ``main``, which reads ``sys.argv``);
    ``ready`` is told where once calls are taken. DisclosureError if it cannot listen there."""
    where = path if path is not None else Path(socket_path())
    _private_folder_for(where)
    listener = _listen(where)
    try:
        key = code_key()
        _load()
        gc.freeze()  # the loaded tool stays shared, untouched, by every call's process
        ready(f"listening on {where} (pid {os.getpid()}); calls of `aidisclose` by this user run here")
        _accept_calls(listener, key, idle_seconds, command_line)
    finally:
        listener.close()
        _remove_if_ours(where, listener)


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
        if where.is_socket() or where.exists():
            if not where.is_socket():
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


def _remove_if_ours(where: Path, listener: socket.socket) -> None:
    del listener
    try:
        if stat.S_ISSOCK(os.lstat(where).st_mode):
            where.unlink()
    except OSError:
        pass


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


class _Stop(Exception):
    pass


def _stop(_number: int, _frame: object) -> None:
    raise _Stop


def _accept_calls(listener: socket.socket, key: bytes, idle_seconds: float, command_line: Callable[[], None]) -> None:
    children: set[int] = set()
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(number, _stop)
    last = time.monotonic()
    try:
        while True:
            _reap(children)
            if idle_seconds and not children and time.monotonic() - last >= idle_seconds:
                return
            if not select.select([listener], [], [], 1.0)[0]:
                continue
            try:
                call, _ = listener.accept()
            except OSError:
                continue
            last = time.monotonic()
            with call:
                peer = call.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
                if int.from_bytes(peer[4:8], sys.byteorder) != os.getuid():
                    continue  # another user's process: not served (the folder should have kept it out)
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    _run_call(call, key, command_line)  # never returns
                children.add(pid)
    except _Stop:
        return


def _reap(children: set[int]) -> None:
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)


def _run_call(call: socket.socket, key: bytes, command_line: Callable[[], None]) -> None:
    """In a call's own process: take the call on, run it, send its exit status; never returns.

    A call that cannot be taken on (not this protocol, cut short) gets no reply before the connection
    closes, as when no server is there: its caller runs it in its own process. Once the pid is sent, the
    call is this process's, and it ends with an exit status sent back.
    """
    # The call is its caller's: out of the server's session, so neither the server's terminal (Ctrl-C where
    # it was started) nor that terminal as /dev/tty reaches it; a passphrase is asked at the caller's own
    # terminal, its standard input, with the echo off (as getpass does when there is no /dev/tty).
    os.setsid()
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        argv = _take(call, key)
    except Exception:
        os._exit(2)
    if argv is None:
        os._exit(0)
    code = 1
    finished = threading.Event()
    try:
        call.sendall(PID + os.getpid().to_bytes(4, "big"))
        threading.Thread(target=_end_with_caller, args=(call, finished), daemon=True).start()
        code = _run(argv, command_line)
    finally:
        finished.set()
        with contextlib.suppress(OSError):
            call.sendall(EXIT + code.to_bytes(4, "big"))
        os._exit(code)


def _take(call: socket.socket, key: bytes) -> list[str] | None:
    """Become the call's process (its streams, folder, umask, environment); its arguments. None if the call
    is for other code (it runs in its own process; a server whose own code changed stops)."""
    header, descriptors, _, _ = call.recvmsg(_HEADER, socket.CMSG_SPACE(4 * 4))
    fds = [
        int.from_bytes(data[i : i + 4], sys.byteorder, signed=True)
        for level, kind, data in descriptors
        if (level, kind) == (socket.SOL_SOCKET, socket.SCM_RIGHTS)
        for i in range(0, len(data) - len(data) % 4, 4)
    ]
    size = int.from_bytes(header[len(PROTOCOL) :], "big")
    if len(header) != _HEADER or not header.startswith(PROTOCOL) or len(fds) != 4 or size > MAX_CALL_BYTES:
        raise ValueError("not a call")
    body = _read_exactly(call, size)
    fields = body.split(b"\0")
    their_key, umask, streams, count = fields[0], int(fields[1]), fields[2:8], int(fields[8])
    if their_key != key:
        call.sendall(OTHER_CODE)
        if their_key.split(b"\n", 4)[:4] == key.split(b"\n", 4)[:4]:  # this install, changed: stop serving it
            os.kill(os.getppid(), signal.SIGTERM)
        return None
    argv = [os.fsdecode(arg) for arg in fields[9 : 9 + count]]
    environment = [entry.partition(b"=") for entry in fields[9 + count :]]
    for target, fd in enumerate(fds[:3]):
        os.dup2(fd, target)
        os.close(fd)
    os.fchdir(fds[3])
    os.close(fds[3])
    os.umask(umask)
    os.environb.clear()
    os.environb.update({name: value for name, _, value in environment})
    time.tzset()
    _standard_streams([s.decode() for s in streams])
    return argv


def _standard_streams(streams: list[str]) -> None:
    """New standard streams on descriptors 0-2, with the encodings and error handlers of the caller's."""
    encodings, errors = streams[0::2], streams[1::2]
    # As the interpreter makes them: stdout line-buffered at a terminal, stderr always.
    sys.stdin = _stream(0, encodings[0], errors[0], line_buffering=False)
    sys.stdout = _stream(1, encodings[1], errors[1], line_buffering=os.isatty(1))
    sys.stderr = _stream(2, encodings[2], errors[2], line_buffering=True)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr  # type: ignore[misc]


def _stream(fd: int, encoding: str, errors: str, line_buffering: bool) -> io.TextIOWrapper:
    raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
    buffer = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
    return io.TextIOWrapper(buffer, encoding, errors, newline="\n", line_buffering=line_buffering)


def _read_exactly(call: socket.socket, size: int) -> bytes:
    chunks = []
    while size:
        chunk = call.recv(min(size, 1 << 20))
        if not chunk:
            raise ValueError("a call cut short")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _end_with_caller(call: socket.socket, finished: threading.Event) -> None:
    """The caller's process is gone (killed, its terminal closed): the call ends as on a hang-up."""
    with contextlib.suppress(OSError):
        call.recv(1)
    if not finished.is_set():
        os.kill(os.getpid(), signal.SIGHUP)


def _run(argv: list[str], command_line: Callable[[], None]) -> int:
    """The command line's exit status for ``argv``, as the ``aidisclose`` process would end with it."""
    sys.argv = ["aidisclose", *argv]
    try:
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
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    return code


def _status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
