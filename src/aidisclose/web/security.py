"""Who may drive the app: the person who started it, in their own browser, and nothing else.

Every request must carry the random token printed with the app's URL: once, in the URL (the app then
sets it as an HttpOnly, SameSite=Strict cookie and sends the browser on without it), and as that cookie
after. Another local web page cannot read the cookie, and the browser sends it to no other site. A
request's Host must be the address the app listens on (a DNS-rebinding page reaches us under its own
name), its Origin, when sent, that address too, and a request from another site (Sec-Fetch-Site) is
refused. Every request that changes something carries a CSRF token derived from the secret as well.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

COOKIE = "aidisclose_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Headers on every answer: no framing, no outside resources, no referrer (the first URL holds the token).
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; "
     b"script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]  # fmt: skip


@dataclass(frozen=True)
class Guard:
    """The app's secret and the addresses it answers to."""

    hosts: frozenset[str]  # "127.0.0.1:8765", "localhost:8765"
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @classmethod
    def for_address(cls, host: str, port: int, token: str | None = None) -> Guard:
        names = {host, "localhost", "127.0.0.1", "[::1]"} if host in ("127.0.0.1", "localhost", "::1") else {host}
        shown = {f"[{n}]" if ":" in n and not n.startswith("[") else n for n in names}
        hosts = frozenset(f"{n}:{port}" for n in shown)
        return cls(hosts, token) if token else cls(hosts)

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(f"http://{h}" for h in self.hosts)

    @property
    def csrf(self) -> str:
        return hmac.new(self.token.encode(), b"csrf", hashlib.sha256).hexdigest()

    def token_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.csrf.encode())

    def url(self, host: str, port: int) -> str:
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/?token={self.token}"


_PROC_NET = ("/proc/net/tcp", "/proc/net/tcp6")


def _proc_address(text: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
    """``0100007F:1F90`` (``/proc/net/tcp``: the address as 32-bit words in the host's byte order) as address, port."""
    address, _, port = text.partition(":")
    raw = bytes.fromhex(address)
    if sys.byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return _plain(ipaddress.ip_address(raw)), int(port, 16)


def _plain(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def peer_uid(client: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The user owning the other end of a loopback TCP connection (Linux: ``/proc/net/tcp``), or None if not found.

    A local connection's client socket is listed with the client's address as local and ours as remote.
    """
    want = ((_plain(ipaddress.ip_address(client[0])), client[1]), (_plain(ipaddress.ip_address(server[0])), server[1]))
    for table in _PROC_NET:
        try:
            with open(table, encoding="ascii") as lines:
                next(lines, None)
                for line in lines:
                    parts = line.split()
                    if len(parts) > 7 and (_proc_address(parts[1]), _proc_address(parts[2])) == want:
                        return int(parts[7])
        except (OSError, ValueError):
            continue
    return None


def same_user(scope: Scope) -> bool:
    """Whether the request comes from this computer's user who started the app (or from another computer).

    On a studio workstation another local user can reach a loopback port, and a browser sends the session
    cookie to every port of 127.0.0.1 (cookies know no port): a page another user serves there learns it.
    So a loopback connection is answered only when its socket belongs to our own user; where the kernel
    does not say (no ``/proc/net/tcp``), the token alone decides.
    """
    client, server = scope.get("client"), scope.get("server")
    if not client or not server or not os.path.exists(_PROC_NET[0]):
        return True
    try:
        if not _plain(ipaddress.ip_address(client[0])).is_loopback:
            return True  # another computer (--host): the token decides
    except ValueError:
        return False
    return peer_uid((client[0], int(client[1])), (server[0], int(server[1]))) == os.geteuid()


def _headers(scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        key = name.decode("latin-1").lower()
        out[key] = value.decode("latin-1") if key not in out else out[key] + ", " + value.decode("latin-1")
    return out


async def _answer(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + SECURITY_HEADERS + (extra or [])})
    await send({"type": "http.response.body", "body": body})


class GuardMiddleware:
    """Refuses every request that is not from the app's own page in the browser that opened its URL."""

    def __init__(self, app: ASGIApp, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets
        if not same_user(scope):
            await _answer(send, 403, "refused: this app answers only to the user who started it")
            return
        headers = _headers(scope)
        if headers.get("host", "") not in self.guard.hosts:
            await _answer(send, 421, "refused: this app answers only to its own address (Host header)")
            return
        origin = headers.get("origin")
        if origin is not None and origin not in self.guard.origins:
            await _answer(send, 403, "refused: a request from another site (Origin header)")
            return
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            await _answer(send, 403, "refused: a request from another site (Sec-Fetch-Site header)")
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed cookie header is no token
            cookie = SimpleCookie()
        session = cookie[COOKIE].value if COOKIE in cookie else None
        if self.guard.token_ok(query.get("token")):
            rest = urlencode([(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode()) if k != "token"])
            location = scope["path"] + (f"?{rest}" if rest else "")
            value = f"{COOKIE}={self.guard.token}; HttpOnly; SameSite=Strict; Path=/"
            await _answer(
                send, 303, "signed in", [(b"location", location.encode()), (b"set-cookie", value.encode())]
            )
            return
        if not self.guard.token_ok(session):
            await _answer(send, 403, "refused: open the URL aidisclose serve printed (it holds the token)")
            return
        # The CSRF token of a request that changes something (header or form field) is checked by the app as it
        # reads the form: every POST route reads it through one function that checks it first.

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, secured)
