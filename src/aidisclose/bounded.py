"""Run a third-party parser where a hostile file cannot hang aidisclose or run its memory away.

A native parser that loops on a damaged file cannot be interrupted from
Python. ``call_bounded`` hands the call to a helper process (forked once per
process, reused for every file) that runs under a memory ceiling; the caller
waits at most a set time, kills the helper if it overruns, and the next call
starts a fresh one. The batch goes on and the file gets a one-line reason.
Limits, from the environment: ``AIDISCLOSE_PARSE_SECONDS`` (default 20) and
``AIDISCLOSE_PARSE_MEGABYTES`` (default 1024, on top of what the process
already maps). Work that reads a whole file (C2PA hashing) is given more
time in proportion to its size (``extra_seconds``); memory never grows.
"""

from __future__ import annotations

import atexit
import faulthandler
import json
import os
import pickle
import resource
import selectors
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .errors import DisclosureError

_OUT_OF_MEMORY = b"ran out of memory"
_OK, _FAILED, _REFUSED = 0, 1, 2  # _REFUSED: a DisclosureError, sent whole
_HEADER = 9  # reply: status byte, 8-byte length
#: A fresh helper after this many calls, so a parser that leaks never reaches the ceiling on a good file.
CALLS_PER_HELPER = 500


class Overrun(DisclosureError):
    """The parser took too long, or crashed: the file is damaged or hostile, not merely unreadable."""


def _limit(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value > 0 else default


#: The hint of a file that overran: the limits are for hostile files, and a large honest one may need more.
RAISE_LIMITS = (
    "a damaged or hostile file, or one too large for the limit: to give it more, "
    "raise AIDISCLOSE_PARSE_MEGABYTES or AIDISCLOSE_PARSE_SECONDS"
)


def limits() -> tuple[float, int]:
    """(seconds, bytes) a parser may take on one file."""
    return _limit("AIDISCLOSE_PARSE_SECONDS", 20.0), int(_limit("AIDISCLOSE_PARSE_MEGABYTES", 1024) * (1 << 20))


def reading_seconds(*paths: Path) -> float:
    """Time to allow, over the parse limit, for work that reads each of ``paths`` whole (at a slow 20 MB/s).

    A path may be named twice when it is read twice; one that does not exist yet counts as the first.
    """
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(sizes[0] if sizes else 0)
    return sum(sizes) / 20e6


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()


def _serve(requests: int, replies: int, memory: int) -> None:
    """The helper's loop: run each pickled call, send back its bytes or its error; leave at end of input."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
        faulthandler.disable()  # a crash is the caller's to report, in one line
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        resource.setrlimit(resource.RLIMIT_AS, (_mapped_bytes() + memory, hard))
        prepared: set[Callable[[], object]] = set()
        quiet = os.open(os.devnull, os.O_WRONLY)  # a native parser's last words would break the one-line report
        os.dup2(quiet, 2)
        os.close(quiet)
        with os.fdopen(requests, "rb") as incoming, os.fdopen(replies, "wb") as outgoing:
            while header := incoming.read(8):
                work, args, prepare = pickle.loads(incoming.read(int.from_bytes(header, "big")))
                try:
                    if prepare is not None and prepare not in prepared:
                        # Loading a native library maps far more than it uses: the ceiling is set above it.
                        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
                        prepare()
                        prepared.add(prepare)
                        resource.setrlimit(resource.RLIMIT_AS, (_mapped_bytes() + memory, hard))
                    data, status = work(*args), _OK
                except MemoryError:
                    data, status = _OUT_OF_MEMORY, _FAILED
                except DisclosureError as exc:  # already one line for the user: passed on as it is
                    data, status = json.dumps([exc.subject, exc.reason, exc.hint]).encode(), _REFUSED
                except Exception as exc:  # sent to the caller as its reason
                    data, status = " ".join(f"{type(exc).__name__}: {exc}".split()).encode(), _FAILED
                outgoing.write(bytes([status]) + len(data).to_bytes(8, "big") + data)
                outgoing.flush()
    finally:
        os._exit(0)  # no atexit handlers, no flushing of the forking process's buffers


def close_all_but(*keep: int, start: int = 3) -> None:
    """Close every descriptor from ``start`` (by default, all but stdio) but ``keep``.

    The helper lives on after the call that forked it: a descriptor it kept would hold what the caller
    holds then, such as the ``flock`` of a file being stamped (the next stamp of it in this process would
    find it locked by "another process") or a temp file's space. (A served call closes the server's so.)
    """
    for fd in sorted(keep):
        os.closerange(start, fd)
        start = max(start, fd + 1)
    os.closerange(start, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1 << 16)


class _Helper:
    def __init__(self, memory: int) -> None:
        requests_in, self.requests = os.pipe()
        self.replies, replies_out = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            close_all_but(requests_in, replies_out)
            _serve(requests_in, replies_out, memory)
        os.close(requests_in)
        os.close(replies_out)
        self.owner = os.getpid()
        self.memory = memory
        self.calls = 0

    def call(
        self, work: Callable[..., bytes], args: tuple[Any, ...], seconds: float, prepare: Callable[[], object] | None
    ) -> tuple[int, bytes] | None:
        """(status, data), or None if the helper overran the deadline or died."""
        self.calls += 1
        request = pickle.dumps((work, args, prepare))
        os.write(self.requests, len(request).to_bytes(8, "big") + request)
        deadline = time.monotonic() + seconds
        header = self._read(_HEADER, deadline)
        if header is None:
            return None
        data = self._read(int.from_bytes(header[1:], "big"), deadline)
        return None if data is None else (header[0], data)

    def _read(self, size: int, deadline: float) -> bytes | None:
        buffer = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(self.replies, selectors.EVENT_READ)
            while len(buffer) < size:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return None
                chunk = os.read(self.replies, size - len(buffer))
                if not chunk:
                    return None  # the helper died
                buffer += chunk
        return bytes(buffer)

    def close(self, kill: bool = False) -> int:
        """Stop the helper; its wait status."""
        if kill:
            os.kill(self.pid, signal.SIGKILL)
        os.close(self.requests)  # end of input: a live helper leaves
        os.close(self.replies)
        return os.waitpid(self.pid, 0)[1]

    def forget(self) -> None:
        """In a forked child: the helper is the parent's, so only drop our copies of its pipes."""
        os.close(self.requests)
        os.close(self.replies)


_helper: _Helper | None = None


def _forget_after_fork() -> None:
    global _helper
    if _helper is not None:
        _helper.forget()
        _helper = None


def _close_at_exit() -> None:
    if _helper is not None and _helper.owner == os.getpid():
        _helper.close()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(_close_at_exit)


def start_helper() -> None:
    """Fork the helper now, if none is running: before the caller starts a thread, as a fork must come first."""
    global _helper
    memory = limits()[1]
    if _helper is not None and _helper.memory != memory:
        _helper.close()
        _helper = None
    if _helper is None:
        _helper = _Helper(memory)


def call_bounded(
    subject: str | Path,
    what: str,
    work: Callable[..., bytes],
    *args: Any,
    extra_seconds: float = 0.0,
    prepare: Callable[[], object] | None = None,
) -> bytes:
    """``work(*args)`` run in the helper under the limits; DisclosureError if it fails, Overrun if it overruns.

    ``work`` must be picklable (a module-level function); a DisclosureError it raises is raised here
    as it was. ``extra_seconds`` is added to the time limit (for work that reads a whole large file).
    ``prepare`` (module-level, run once per helper before ``work``) loads what ``work`` needs, such
    as a native library; the memory limit counts from what the helper maps after it.
    """
    global _helper
    seconds, memory = limits()
    seconds += max(0.0, extra_seconds)
    start_helper()  # the ceiling is set when a helper starts: a new one if the limit changed
    assert _helper is not None
    helper = _helper
    started = time.monotonic()
    try:
        reply = helper.call(work, args, seconds, prepare)
    except BaseException:  # interrupted mid-call (Ctrl-C): the helper must not outlive it
        _helper = None
        helper.close(kill=True)
        raise
    if reply is None:
        _helper = None
        died = time.monotonic() - started < seconds
        status = helper.close(kill=True)
        if died:
            how = signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else "exited"
            reason = f"{what} crashed ({how}) or went over the {memory >> 20} MB memory limit"
            raise Overrun(subject, reason, RAISE_LIMITS)
        raise Overrun(subject, f"{what} gave up after {seconds:g} s", RAISE_LIMITS)
    if helper.calls >= CALLS_PER_HELPER:
        _helper = None
        helper.close()
    code, data = reply
    if code == _REFUSED:
        raise _refusal(subject, what, data)
    if code == _FAILED and data == _OUT_OF_MEMORY:
        raise DisclosureError(subject, f"{what} failed: ran out of memory (the {memory >> 20} MB limit)", RAISE_LIMITS)
    if code != _OK:
        raise DisclosureError(subject, f"{what} failed: {data.decode(errors='replace')}")
    return data


def _refusal(subject: str | Path, what: str, data: bytes) -> DisclosureError:
    """The DisclosureError the helper sent, as JSON: never unpickled, since the helper has read a hostile file."""
    try:
        said, reason, hint = (value if isinstance(value, str) else None for value in json.loads(data))
    except ValueError:
        said, reason, hint = None, None, None
    return DisclosureError(said or str(subject), reason or f"{what} failed", hint)
