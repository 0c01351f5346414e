"""``aidisclose serve`` started for a test: a real server in its own process on a free 127.0.0.1 port."""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .conftest import ROOT

_URL = re.compile(r"open (http://127\.0\.0\.\d+:(\d+)/\?token=([A-Za-z0-9_-]+))")


@dataclass(frozen=True)
class Served:
    root: Path
    url: str  # the printed URL, with its token
    port: int
    token: str
    process: subprocess.Popen[str]
    said: list[str]  # what the server printed (stderr), as it comes

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cookie(self) -> str:
        """The session cookie the app sets for the token (as a browser would get it)."""
        answer = request(self, "GET", f"/?token={self.token}")
        assert answer.status == 303, answer.status
        return answer.getheader("set-cookie", "").split(";")[0]


class Answer:
    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.status = response.status
        self.headers = response.getheaders()
        self.body = response.read().decode("utf-8", "replace")

    def getheader(self, name: str, default: str = "") -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), default)


def request(
    served: Served, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> Answer:
    """One request, headers exactly as given (Host too, when given): what a browser or another page sends."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    try:
        given = dict(headers or {})
        connection.putrequest(method, path, skip_host="Host" in given, skip_accept_encoding=True)
        for name, value in given.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        return Answer(connection.getresponse())
    finally:
        connection.close()


@contextmanager
def serving(root: Path, *options: str) -> Iterator[Served]:
    """``aidisclose serve --root ROOT --port 0 OPTIONS``; stopped with Ctrl-C (SIGINT) when the block ends."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen(
        [sys.executable, "-m", "aidisclose", "serve", "--root", str(root), "--port", "0", *options],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    reader = None
    try:
        assert process.stderr is not None
        said = []
        deadline = time.monotonic() + 60
        match = None
        while match is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            said.append(line)
            match = _URL.search(line)
        assert match, f"aidisclose serve printed no URL:\n{''.join(said)}"
        stream = process.stderr  # read on, so that the pipe never fills and blocks the server
        reader = threading.Thread(target=lambda: said.extend(stream), daemon=True)
        reader.start()
        url = match.group(1)
        yield Served(root, url, int(urlsplit(url).port or 0), match.group(3), process, said)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if reader is not None:
            reader.join(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
