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
#: server runs other code than this call's (the call then runs here).
PID, EXIT, OTHER_CODE = b"P", b"X", b"S"


def socket_path() -> str:
    """Where this user's server listens: ``AIDISCLOSE_SOCKET``, else a private folder of the runtime dir."""
    named = os.environ.get(SOCKET_ENV)
    if named:
        return named
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


def code_key() -> bytes:
    """What names the code a call runs: the interpreter, the file-name encoding, and every source file of
    this package (path, size, modification time). A server runs a call only if its own key is the same."""
    package = os.path.dirname(os.path.abspath(__file__))
    lines = [sys.version, sys.executable, sys.getfilesystemencoding(), package]
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
    return "\n".join(lines).encode("utf-8", "surrogateescape")
