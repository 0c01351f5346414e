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

from .serving import EXIT, OTHER_CODE, PID, PROTOCOL, SERVER_ENV, code_key, private_folder, socket_path

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
    path = socket_path()
    if not private_folder(os.path.dirname(path)) or any(s is None for s in (sys.stdin, sys.stdout, sys.stderr)):
        return None
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
        here = os.open(".", os.O_PATH | os.O_DIRECTORY)  # the working folder, even one we may not list
    except OSError:
        return None  # a closed standard stream or a deleted folder: run here, which reports it
    server = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        server.connect(path)
        peer = server.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
        if int.from_bytes(peer[4:8], sys.byteorder) != os.getuid():
            return None  # someone else's process at our socket path: never hand it our environment
        _send(server, argv, here)
        return _await(server)
    except OSError:
        return None  # no server (or it went away before taking the call): run here
    finally:
        server.close()
        os.close(here)


def _send(server: _socket.socket, argv: list[str], here: int) -> None:
    umask = os.umask(0o077)
    os.umask(umask)
    streams = [f"{s.encoding}\0{s.errors}" for s in (sys.stdin, sys.stdout, sys.stderr)]
    fields = [code_key(), str(umask).encode(), "\0".join(streams).encode(), str(len(argv)).encode()]
    fields += [os.fsencode(arg) for arg in argv]
    fields += [key + b"=" + value for key, value in os.environb.items()]
    body = b"\0".join(fields)
    descriptors = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in (0, 1, 2, here))
    header = PROTOCOL + len(body).to_bytes(8, "big")
    server.sendmsg([header], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, descriptors)])
    server.sendall(body)


def _await(server: _socket.socket) -> int | None:
    """Wait for the served call to end, forwarding signals to its process; its exit status."""
    reply = _read(server, 5)
    if reply[:1] == OTHER_CODE:
        return None
    if reply[:1] != PID:
        raise OSError("not an aidisclose server")
    child = int.from_bytes(reply[1:5], "big")

    def forward(number: int, _frame: object) -> None:
        try:  # noqa: SIM105  # contextlib costs 4 ms to import
            os.kill(child, number)
        except OSError:
            pass  # it has just ended

    for number in FORWARDED:
        if _signal.getsignal(number) is not _signal.SIG_IGN:  # one this process ignores, the call ignores
            _signal.signal(number, forward)
    if _signal.getsignal(_signal.SIGTSTP) is not _signal.SIG_IGN:
        _signal.signal(_signal.SIGTSTP, _stop_both(child))
    try:
        reply = _read(server, 5)
    except OSError:
        reply = b""
    if reply[:1] != EXIT:
        os.write(
            2,
            b"aidisclose: the command server's process for this call ended before the call did "
            b"(killed?); run it again, or with AIDISCLOSE_SERVER=off\n",
        )
        return EXIT_ERROR
    return int.from_bytes(reply[1:5], "big")


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


def _read(server: _socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = server.recv(size - len(data))
        if not chunk:
            return data
        data += chunk
    return data
