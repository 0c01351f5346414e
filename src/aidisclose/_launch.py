"""The ``aidisclose`` command: each call runs here, or in this user's command server if one is running.

Loading the tool (Typer, pydantic, the record and its readers) takes a few hundred milliseconds, far
more than reading one file does. ``aidisclose server`` keeps it loaded: a call finds its socket, hands
over its arguments, environment, working folder, umask and standard streams, and the server forks a
process that runs the call as this one would, writing to the same streams; its exit status comes back.
With no server (or one that is not this user's, or that runs other code) the call runs here. Nothing
here imports more than the interpreter's own C modules: that is the whole cost of a served call.

``AIDISCLOSE_SERVER=off`` runs every call here; ``AIDISCLOSE_SOCKET`` names the server's socket.
"""

from __future__ import annotations

# The C modules behind ``signal`` and ``socket``: those two import more than a served call costs to start.
import _signal  # type: ignore[import-not-found]  # (it has no type stubs)
import _socket
import os
import sys

from .serving import (
    EXIT,
    GO,
    MAX_DESCRIPTORS,
    NOT_SERVED,
    PID,
    PROTOCOL,
    SERVER_ENV,
    code_key,
    interpreter_key,
    private_folder,
    socket_path,
)

TYPE_CHECKING = False  # not typing's: importing it costs more than this module does (mypy reads it as true)
if TYPE_CHECKING:
    from collections.abc import Callable

#: Signals the user sends this process (Ctrl-C, kill, a hang-up) reach the served call's process too.
FORWARDED = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT)
EXIT_ERROR = 2
#: Commands that always run in their own process: the server itself, and those that run for hours anyway.
IN_PROCESS = ("server", "serve", "watch")


def command_of(argv: list[str]) -> str | None:
    """The command a line names: its first word that is no option."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main() -> None:
    served = _served(sys.argv[1:])
    if served is not None:
        sys.stdout.flush()
        os._exit(served)  # the served call flushed and closed what it wrote; there is nothing left here
    from .cli import main as run_here

    run_here()


def _served(argv: list[str]) -> int | None:
    """The exit status of the call run by this user's server; None if none ran it (it is to run here)."""
    if os.environ.get(SERVER_ENV) == "off" or command_of(argv) in IN_PROCESS:
        return None
    if not hasattr(_socket, "SO_PEERCRED") or not hasattr(os, "O_PATH"):
        return None  # no way to know the server's user, or to hand over the folder: not Linux
    path = socket_path()
    if not private_folder(os.path.dirname(path)) or any(s is None for s in (sys.stdin, sys.stdout, sys.stderr)):
        return None
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
        if os.isatty(0) and os.tcgetpgrp(0) != os.getpgrp():
            return None  # a background job at a terminal: the kernel's job control must stop it, as it does here
        here = os.open(".", os.O_PATH | os.O_DIRECTORY)  # the working folder, even one we may not list
    except OSError:
        return None  # a closed standard stream or a deleted folder: run here, which reports it
    server = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        server.settimeout(3.0)  # a server that is stopped (Ctrl-Z, a debugger) or swamped: run here
        server.connect(path)
        peer = server.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
        if int.from_bytes(peer[4:8], sys.byteorder) != os.getuid():
            return None  # someone else's process at our socket path: never hand it our environment
        return _await(server, _send(server, argv, here))
    except OSError:
        return None  # no server, or it did not take the call (the call has not run): run here
    finally:
        server.close()
        os.close(here)


def _descriptors(*besides: int) -> list[int]:
    """This process's open descriptors (a call may name one: ``-r <(...)``, ``/dev/fd/3``), but ``besides``."""
    return sorted(int(n) for n in os.listdir("/proc/self/fd") if int(n) not in besides and _is_open(int(n)))


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False  # the folder listdir read them from, closed since
    return True


def _send(server: _socket.socket, argv: list[str], here: int) -> bytes:
    """The call, as ``server._read_call`` reads it: one header, then NUL-separated fields in this order;
    the descriptors to send with GO (the caller's open ones, the folder last)."""
    umask = os.umask(0o077)
    os.umask(umask)
    fds = _descriptors(server.fileno(), here)
    if len(fds) > MAX_DESCRIPTORS:
        raise OSError("more descriptors than one message carries")
    streams = (sys.stdin, sys.stdout, sys.stderr)
    main = sys.modules.get("__main__")
    fields = [
        code_key(),
        interpreter_key(),
        str(umask).encode(),
        b"1" if getattr(sys.stdout, "write_through", False) else b"0",  # python -u, PYTHONUNBUFFERED
        *(f"{s.encoding}\0{s.errors}".encode() for s in streams),
        os.fsencode(sys.argv[0]),
        (getattr(main, "__package__", None) or "").encode(),  # "aidisclose" for python -m aidisclose
        b" ".join(f"{fd}:{int(os.get_inheritable(fd))}".encode() for fd in fds),
        str(len(argv)).encode(),
        *(os.fsencode(arg) for arg in argv),
        *(name + b"=" + value for name, value in os.environb.items()),
    ]
    body = b"\0".join(fields)
    server.sendall(PROTOCOL + len(body).to_bytes(8, "big") + body)
    return b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in (*fds, here))


def _await(server: _socket.socket, descriptors: bytes) -> int | None:
    """Wait for the served call to end, forwarding signals to its process; its exit status.

    None if it was not taken (the server runs other code, or is stopped): it has not run, and runs here.
    Once the pid has come and GO is sent, the call is the server's: it never runs here as well.
    """
    reply = _received(server, 5)
    if reply[:1] == NOT_SERVED or reply[:1] != PID:
        return None
    child = int.from_bytes(reply[1:5], "big")
    forwarded: list[int] = []

    def forward(number: int, _frame: object) -> None:
        forwarded.append(number)
        try:  # noqa: SIM105  # contextlib costs 4 ms to import
            os.kill(child, number)
        except OSError:
            pass  # it has just ended

    before = {number: _signal.getsignal(number) for number in (*FORWARDED, _signal.SIGTSTP)}
    for number in FORWARDED:
        if before[number] is not _signal.SIG_IGN:  # one this process ignores, the call ignores
            _signal.signal(number, forward)
    if before[_signal.SIGTSTP] is not _signal.SIG_IGN:
        _signal.signal(_signal.SIGTSTP, _stop_both(child))
    try:
        server.sendmsg([GO], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, descriptors)])
    except OSError:  # the call's process is gone before it took the call: it runs here, as it would have
        for number, handler in before.items():
            _signal.signal(number, handler)
        raise
    server.settimeout(None)
    try:
        reply = _received(server, 5)
    except OSError:
        reply = b""
    if reply[:1] == EXIT:
        return int.from_bytes(reply[1:5], "big")
    if forwarded:  # it ended on the signal passed on to it: this process ends on it too, as it would here
        _signal.signal(forwarded[-1], _signal.SIG_DFL)
        os.kill(os.getpid(), forwarded[-1])
    os.write(
        2,
        b"aidisclose: the command server's process for this call ended before the call did "
        b"(killed?); run it again, or with AIDISCLOSE_SERVER=off\n",
    )
    return EXIT_ERROR


def _stop_both(child: int) -> Callable[[int, object], None]:
    """Ctrl-Z: the served call's process stops with this one, and goes on when this one does."""

    def stop(_number: int, _frame: object) -> None:
        try:
            os.kill(child, _signal.SIGSTOP)
        except OSError:
            return
        _signal.signal(_signal.SIGTSTP, _signal.SIG_DFL)
        os.kill(os.getpid(), _signal.SIGTSTP)  # stopped here until the shell continues it
        _signal.signal(_signal.SIGTSTP, stop)
        try:  # noqa: SIM105
            os.kill(child, _signal.SIGCONT)
        except OSError:
            pass

    return stop


def _received(server: _socket.socket, size: int) -> bytes:
    """Up to ``size`` bytes from the server, fewer only if it closes first."""
    data = b""
    while len(data) < size:
        chunk = server.recv(size - len(data))
        if not chunk:
            return data
        data += chunk
    return data
