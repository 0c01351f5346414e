"""What a call of ``aidisclose`` and the command server (``aidisclose server``) agree on: where the server
listens, who may reach it, the code it runs, and the words of their exchange. Only the interpreter's own
modules are imported here: the launcher (``_launch``) imports this before it knows whether it runs the call.
"""

from __future__ import annotations

import os
import sys

PROTOCOL = b"aidisclose-serve/1\0"
SERVER_ENV = "AIDISCLOSE_SERVER"
SOCKET_ENV = "AIDISCLOSE_SOCKET"
#: What a served call's process says: its pid (to forward signals to), its exit status, or that this
#: server does not run this call (other code, another environment or process context): it runs here.
#: GO is the caller's answer to the pid: only then does the call run, so it never runs twice.
PID, EXIT, NOT_SERVED, GO = b"P", b"X", b"S", b"G"
#: The most descriptors one call hands over (the kernel's limit for one message is 253, with the folder).
MAX_DESCRIPTORS = 250
#: Environment variables read when the tool is loaded, not when a call runs: a call is served only if
#: its value of each is the server's (with every PYTHON* variable but those the call's streams take on).
LOADED_FROM_ENVIRONMENT = ("TYPER_USE_RICH", "C2PA_LIBRARY_NAME", "LD_PRELOAD", "LD_LIBRARY_PATH")
TAKEN_ON = ("PYTHONUNBUFFERED", "PYTHONIOENCODING", "PYTHONDONTWRITEBYTECODE")


def socket_path() -> str:
    """Where this user's server listens: ``AIDISCLOSE_SOCKET``, else a private folder of the runtime dir."""
    named = os.environ.get(SOCKET_ENV)
    if named:
        return os.path.abspath(named)
    runtime = os.environ.get("XDG_RUNTIME_DIR") or ""
    base = runtime if os.path.isabs(runtime) else "/tmp"
    return os.path.join(base, f"aidisclose-{os.getuid()}", "server.sock")


def private_folder(folder: str) -> bool:
    """Whether ``folder`` is a real folder (no symlink) of this user that nobody else may enter."""
    try:
        info = os.lstat(folder)
    except OSError:
        return False
    return (info.st_mode & 0o170000) == 0o040000 and info.st_uid == os.getuid() and info.st_mode & 0o077 == 0


def install_key() -> bytes:
    """Which install of aidisclose this is: the interpreter and the package's folder."""
    package = os.path.dirname(os.path.abspath(__file__))
    return "\n".join([sys.version, sys.executable, package]).encode("utf-8", "surrogateescape")


def code_key() -> bytes:
    """What names the code a call runs: the install, every source file of this package (path, size,
    modification time), and the folders of the import path with their modification times (an install or
    upgrade of a package there changes its folder's). A server runs a call only if its own is the same."""
    package = os.path.dirname(os.path.abspath(__file__))
    lines = []
    for folder in sys.path[1:]:  # the first is the script's folder (or the current one): never the tool's
        try:
            lines.append(f"{folder} {os.stat(folder).st_mtime_ns}")
        except OSError:
            lines.append(f"{folder} -")
    folders = [package]
    while folders:
        folder = folders.pop()
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False) and entry.name != "__pycache__":
                    folders.append(entry.path)
                elif entry.name.endswith(".py"):
                    info = entry.stat()
                    lines.append(f"{entry.path[len(package) :]} {info.st_size} {info.st_mtime_ns}")
    return install_key() + b"\n" + "\n".join(lines).encode("utf-8", "surrogateescape")


def interpreter_key() -> bytes:
    """How the interpreter runs code: its flags (but whether it writes bytecode), the file-name encoding
    and the import path. A call made otherwise than the server (``python -O``, another PYTHONPATH) is not
    served."""
    names = [name for name in type(sys.flags).__match_args__ if name != "dont_write_bytecode"]
    flags = " ".join(f"{name}={getattr(sys.flags, name)}" for name in names)
    return "\n".join([flags, sys.getfilesystemencoding(), *sys.path[1:]]).encode("utf-8", "surrogateescape")


def loaded_environment(environment: dict[bytes, bytes]) -> list[bytes]:
    """The entries of ``environment`` the tool reads as it is loaded (see LOADED_FROM_ENVIRONMENT)."""
    names = {name.encode() for name in LOADED_FROM_ENVIRONMENT}
    taken = {name.encode() for name in TAKEN_ON}
    return sorted(
        name + b"=" + value
        for name, value in environment.items()
        if name in names or (name.startswith(b"PYTHON") and name not in taken)
    )
