"""``aidisclose serve``: a local web app to fill in a record, stamp, inspect, review and sign off a delivery.

It needs the ``web`` extra (``pip install 'aidisclose[web]'``: Starlette, uvicorn, Jinja2). Nothing
here is imported by any other command.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..errors import DisclosureError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServeOptions:
    root: Path
    host: str = "127.0.0.1"
    port: int = 8765
    max_upload_mb: int = 512
    sign_cert: Path | None = None
    sign_key: Path | None = None
    trust: Path | None = None


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise DisclosureError(f"{host}:{port}", f"cannot listen there: {exc.strerror or exc}", "pick --port") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def _own_user_protocol() -> type[asyncio.Protocol]:
    """uvicorn's HTTP/1.1 protocol, closing at once a connection another local user opened (Linux).

    The app refuses such a request too (``same_user``), but only once its headers are in: closing at the
    connection keeps another user from holding connections open, half a request each, until none is left.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    from .security import same_user

    class OwnUserH11(H11Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if not same_user({"client": self.client, "server": self.server}):
                transport.close()

    return OwnUserH11


def serve(options: ServeOptions, say: TextIO = sys.stderr) -> None:
    """Listen on ``options.host:port`` (0 picks a free port), print the URL with its token, serve until Ctrl-C."""
    try:
        import uvicorn
    except ImportError:
        raise DisclosureError(
            "serve", "the web app is not installed", "pip install 'aidisclose[web]' (Starlette, uvicorn, Jinja2)"
        ) from None
    from .app import Settings, create_app
    from .security import Guard

    root = options.root.resolve()
    if not root.is_dir():
        raise DisclosureError(options.root, "is not a folder", "give --root an existing folder")
    cert = options.sign_cert or _env_path("AIDISCLOSE_SIGN_CERT")
    key = options.sign_key or _env_path("AIDISCLOSE_SIGN_KEY")
    if cert is not None or key is not None:  # a signing identity that cannot sign is told now, not at the first stamp
        from ..carriers.c2pa.identity import identity_from_settings

        identity_from_settings(cert, key)
    if options.trust is not None:
        from ..carriers.c2pa.reading import read_trust_anchors

        read_trust_anchors(options.trust)
    sock = _listen(options.host, options.port)
    port = sock.getsockname()[1]
    guard = Guard.for_address(options.host, port)
    settings = Settings(root, guard, options.max_upload_mb << 20, cert, key, options.trust)
    app = create_app(settings)
    if options.host not in LOCAL_HOSTS:
        say.write(
            f"aidisclose: warning: listening on {options.host}, not only on this computer: anyone who can reach "
            "it and learns the URL can read and stamp files under the root\n"
        )
    say.write(f"aidisclose: serving {root}\naidisclose: open {guard.url(options.host, port)}\n")
    say.write("aidisclose: Ctrl-C stops\n")
    say.flush()
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, lifespan="off", server_header=False, http=_own_user_protocol()
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])  # Ctrl-C: uvicorn finishes the requests under way, then raises it again
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
        stopped = app.state.aidisclose.stamps.stop()  # the file being stamped is finished, never left half-written
        if stopped:
            say.write(f"aidisclose: {stopped} stamp run(s) stopped after the file being written; run them again\n")
    say.write("aidisclose: stopped\n")
    say.flush()
