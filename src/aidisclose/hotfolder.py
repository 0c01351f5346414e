"""Hot folders: every file that lands in a watched folder is stamped into an output folder, once, across restarts.

Each arrival goes through the stamp path (``plan.plan_job``, ``plan.stamp_job``): the same record layers,
the same atomic, verified write, the same refusal lines. Its record is the base record, then each
``aidisclose.toml`` from the watched folder down to the file's own folder (the nearest laid last, so it
wins), then its row of ``--records``, then ``--set``. A file that fails is copied (atomically) to
``OUT/_failed/<relative path>`` with ``<name>.txt`` beside it holding the one-line reason; nothing in the
watched folder is ever written.

**Done, across restarts.** For each source a state file (``OUT/.aidisclose-watch/<digest of its relative
path>.json``, written atomically after the output) holds what was done: the source's identity (device,
inode, size, mtime and ctime in ns) and SHA-256, a digest of the record and signing settings it was
stamped with, and the output's size, mtime and SHA-256. A source is done when its identity and record
digest match its state and the output (or its ``_failed`` copy) is still there with the size and mtime
recorded: that test reads no file but the state. Anything else goes through ``stamp`` again, which is
itself idempotent: an output that already carries the record over the same essence is left alone
(``unchanged``), so a run killed between writing an output and its state does not stamp it twice. An
existing output is replaced only when the state shows this watch wrote it (its SHA-256 matches): a
re-exported source is stamped again; a file someone else put there is refused. Outputs cannot be half
written: every write is a temp file renamed over the target once verified.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from .batch import HIDDEN, Item, Outcome, WalkOptions, walk
from .carriers.base import file_sha256
from .carriers.c2pa.trust import TrustSettings
from .check import CheckReport, FileCheck
from .display import json_dumps, terminal_text
from .errors import DisclosureError, UnsupportedFormat, unexpected
from .formats import detect
from .inputs import READ_UNFOLLOWED, read_input
from .plan import FolderRecord, RecordLayers, StampJob, StampOptions, plan_job, stamp_job
from .policy import Policy
from .record import DisclosureRecord, Origin, record_data_from_text
from .safewrite import replace_atomically
from .stamp import StampResult
from .tomllines import toml_key_lines

FOLDER_RECORD = "aidisclose.toml"  # a folder's record, laid over --record for the files under it
FAILED = "_failed"
STATE = ".aidisclose-watch"
FOLDER_RECORD_LIMIT = 1 << 20  # bytes: a record is a few KB; a larger file is refused, never read whole
_STATE_LIMIT = 1 << 16
_STATE_FORMAT = 1


@dataclass(frozen=True)
class Arrival:
    """What became of one file that landed: stamped (or unchanged), skipped, or failed into ``_failed``."""

    path: Path
    outcome: Outcome[StampResult]
    failed_copy: Path | None = None  # OUT/_failed/<relative path>, beside it <name>.txt
    problems: tuple[str, ...] = ()  # what went wrong keeping track of it (a _failed copy or the state not written)
    check: tuple[FileCheck, CheckReport] | None = None


@dataclass
class _FolderRecords:
    """The ``aidisclose.toml`` files of the watched tree, read again only when one changes."""

    root: Path
    cache: dict[Path, tuple[object, FolderRecord | DisclosureError]] = field(default_factory=dict)
    enabled: bool = True  # False (--no-folder-records): none is read, the pipeline's record alone counts

    def for_file(self, relative: Path) -> tuple[list[FolderRecord], tuple[object, ...]]:
        """The records of the folders from the root down to ``relative``'s folder, outermost first; and what
        tells them apart from any other set of records (their paths and file identities)."""
        if not self.enabled:
            return [], ()
        folders = [self.root, *(self.root / Path(*relative.parts[:depth]) for depth in range(1, len(relative.parts)))]
        found, signature = [], []
        for depth, folder in enumerate(folders, start=1):
            key, loaded = self._load(folder / FOLDER_RECORD, depth)
            if isinstance(loaded, DisclosureError):
                raise loaded
            if loaded is not None:
                found.append(loaded)
                signature.append((folder, key))
        return found, tuple(signature)

    def _load(self, path: Path, depth: int) -> tuple[object, FolderRecord | DisclosureError | None]:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            return None, DisclosureError(path, f"cannot read the folder's record: {exc.strerror or exc}")
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        cached = self.cache.get(path)
        if cached is not None and cached[0] == key:
            return key, cached[1]
        loaded = _read_folder_record(path, depth)
        self.cache[path] = (key, loaded)
        return key, loaded


def _read_folder_record(path: Path, depth: int) -> FolderRecord | DisclosureError:
    """A folder's record, read without following a link, never more than FOLDER_RECORD_LIMIT bytes."""
    try:
        data = read_input(path, "a folder's record", FOLDER_RECORD_LIMIT, links=False)
    except OSError as exc:
        reason = "is a symlink; a folder's record must be a file of its own" if exc.errno == errno.ELOOP else None
        return DisclosureError(path, reason or f"cannot read the folder's record: {exc.strerror or exc}")
    except DisclosureError as err:
        return err
    try:
        text = data.decode("utf-8")
        values, toml = record_data_from_text(path, text)
    except UnicodeDecodeError as exc:
        return DisclosureError(path, f"cannot read the record: {exc}")
    except DisclosureError as err:
        return err
    return values, Origin(str(path), rank=(0, depth), lines=toml_key_lines(toml) if toml else {})


def _path_digest(relative: Path) -> str:
    """A relative path's SHA-256, over its bytes as the file system holds them (any name, UTF-8 or not)."""
    return hashlib.sha256(os.fsencode(relative.as_posix())).hexdigest()


def _unchecked(_temp: Path) -> None:
    """Text aidisclose wrote itself from values it holds: nothing to read back."""


def _identity(info: os.stat_result) -> dict[str, int]:
    # ctime too: a copy that keeps the mtime (cp -p, rsync -t) over a file of the same size still changes it.
    return {
        "dev": info.st_dev,
        "ino": info.st_ino,
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "ctime_ns": info.st_ctime_ns,
    }


def _lock_identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


class HotFolder:
    """Stamps what lands in ``inbox`` into ``options.output_dir``; ``process`` one settled path at a time."""

    def __init__(
        self,
        inbox: Path,
        layers: RecordLayers,
        options: StampOptions,
        policies: list[Policy] | None = None,
        strict: bool = False,
        trust: TrustSettings | None = None,
        report_dir: Path | None = None,
        walk_options: WalkOptions | None = None,
        folder_records: bool = True,  # False: the aidisclose.toml files in the watched folder are not read
    ) -> None:
        if options.output_dir is None:
            raise DisclosureError("watch", "say where the stamped files go", "pass --output DIR")
        self.inbox = inbox.resolve()
        self.output = options.output_dir.resolve()
        if self.inbox.is_relative_to(self.output):  # the mirrored tree would be written into the watched folder
            raise DisclosureError(
                options.output_dir, "is the watched folder or holds it", "give --output a folder outside it, or in it"
            )
        self.options = dataclasses.replace(options, output_dir=self.output, overwrite=False, in_place=False)
        self.layers = layers
        self.policies = policies
        self.strict = strict
        self.trust = trust
        self.report_dir = report_dir
        given = walk_options or WalkOptions()
        self.walk_options = WalkOptions(
            include=given.include,
            exclude=(*given.exclude, FOLDER_RECORD),
            leave_out=((self.output, "the --output folder: not watched"),),
        )
        self.state_dir = self.output / STATE
        self.failed_dir = self.output / FAILED
        self.folder_records = _FolderRecords(self.inbox, enabled=folder_records)
        self._told: set[Path] = set()  # skipped entries of a scan, told once a run
        self._record_keys: dict[tuple[Path, tuple[object, ...]], str] = {}
        self._lock: tuple[int, tuple[int, int]] | None = None  # the lock held (fd, device and inode) by ``locked``
        self.lost: str | None = None  # why this watch no longer holds its output folder (it must stop)

    # -- set-up ---------------------------------------------------------------------------------------

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Make the output folder and hold it for this watch: a second watch into it is refused."""
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.state_dir / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise DisclosureError(self.output, f"cannot write into the output folder: {exc.strerror or exc}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise DisclosureError(
                    self.output, "another aidisclose watch writes into this folder", "stop it, or give another --output"
                ) from None
            self._lock = (fd, _lock_identity(os.fstat(fd)))
            yield
        finally:
            os.close(self._lock[0] if self._lock is not None else fd)
            self._lock = None

    def holds_lock(self) -> bool:
        """Whether this watch still holds the output folder; taken again if it was removed meanwhile (rm -rf).

        False (``lost`` says why) when another watch took it in between: this one must stop.
        """
        if self._lock is None:
            return True  # not locked (a library caller): nothing to keep
        fd, identity = self._lock
        path = self.state_dir / "lock"
        info = _stat(path)
        if info is not None and _lock_identity(info) == identity:
            return True
        try:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            new = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            self.lost = f"{self.output}: the output folder went away and cannot be made again: {exc.strerror or exc}"
            return False
        try:
            fcntl.flock(new, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(new)
            self.lost = (
                f"{self.output}: the output folder was removed while watching and another aidisclose watch "
                "writes into it now; this one stopped"
            )
            return False
        os.close(fd)
        self._lock = (new, _lock_identity(os.fstat(new)))
        return True

    def wanted(self, path: Path) -> bool:
        """Whether an arrival at ``path`` passes --include and --exclude, as the walk of ``scan`` does."""
        return not path.is_relative_to(self.inbox) or self.walk_options.selects(path.relative_to(self.inbox).as_posix())

    def scan(self, on_skipped: Callable[[str], None] | None = None) -> Iterator[Path]:
        """The files already in the watched folder that are not done (walked as ``stamp`` walks)."""
        for item in walk([self.inbox], self.walk_options):
            if item.skip or item.error:
                told = item.skip == HIDDEN or item.path in self._told or item.path.resolve() == self.output
                if not told and on_skipped is not None:
                    self._told.add(item.path)
                    on_skipped(f"{item.path}: {item.skip or item.error}")
                continue
            if not self.done(item.path):
                yield item.path

    # -- the done test ----------------------------------------------------------------------------------

    def _state_path(self, relative: Path) -> Path:
        return self.state_dir / f"{_path_digest(relative)[:40]}.json"

    def _read_state(self, relative: Path) -> dict[str, Any] | None:
        try:
            fd = os.open(self._state_path(relative), READ_UNFOLLOWED)
            with os.fdopen(fd, "rb") as handle:
                info = os.fstat(fd)
                # The states are written with the owner and mode of the lock (rw-r--r--, the watch's own user):
                # one that differs (another user's, writable by others) could skip a file or replace theirs.
                lock = os.stat(self.state_dir / "lock")
                owner, lock_owner = (info.st_uid, info.st_mode & 0o7777), (lock.st_uid, lock.st_mode & 0o7777)
                if not stat.S_ISREG(info.st_mode) or owner != lock_owner:
                    return None
                data = json.loads(handle.read(_STATE_LIMIT))
        except (OSError, ValueError):
            return None  # none, or unreadable: the file goes through stamp, which tells what is already done
        if not isinstance(data, dict) or data.get("format") != _STATE_FORMAT:
            return None
        if data.get("source_path_sha256") != _path_digest(relative):
            return None  # another path with the same digest prefix: never taken for this one
        return data

    def _record_key(self, record: DisclosureRecord | None, refusal: str | None) -> str:
        signing = self.options.signing
        settings = {
            "record": record.to_json_dict() if record is not None else {"refused": refusal},
            "signer": hashlib.sha256(signing.cert_chain).hexdigest() if signing else None,
            "redact": sorted(self.options.redact),
            "replace_standard": self.options.replace_standard,
            "discard_credentials": self.options.discard_credentials,
        }
        return hashlib.sha256(json_dumps(settings).encode()).hexdigest()

    def _item(self, path: Path) -> Item:
        return Item(path, self.inbox, size=0)

    def _planned(self, item: Item) -> tuple[StampJob | DisclosureError, str]:
        """The stamp job for ``item`` (or the DisclosureError refusing it) and its record key."""
        try:
            records, _ = self.folder_records.for_file(item.relative)
            job = plan_job(item, self.layers, self.options, records)
        except DisclosureError as err:
            return err, self._record_key(None, err.one_line())
        return job, self._record_key(job.record, None)

    def _record_key_of(self, item: Item) -> str:
        """``_planned(item)[1]``, the same for every file of a folder without a row of its own: computed once."""
        row = item.relative.as_posix()
        try:
            _, signature = self.folder_records.for_file(item.relative)
        except DisclosureError:
            return self._planned(item)[1]
        if row in self.layers.rows:
            return self._planned(item)[1]
        key = (item.relative.parent, signature)
        if key not in self._record_keys:
            if len(self._record_keys) > 10_000:
                self._record_keys.clear()
            self._record_keys[key] = self._planned(item)[1]
        return self._record_keys[key]

    def done(self, path: Path) -> bool:
        """Whether ``path`` was already dealt with, as it is now and with the record it would get now."""
        info = _stat(path)
        item = self._item(path)
        state = self._read_state(item.relative)
        if info is None or state is None or state.get("identity") != _identity(info):
            return False
        if state.get("record") != self._record_key_of(item):
            return False
        outcome = state.get("outcome")
        if outcome == "skipped":
            return True
        if outcome not in ("stamped", "failed"):
            return False
        copy, why = self._failed_paths(item.relative)
        kept = self.output / item.relative if outcome == "stamped" else copy if state.get("copied", True) else why
        there = _stat(kept)
        return there is not None and [there.st_size, there.st_mtime_ns] == state.get("kept_size_mtime")

    # -- one arrival ------------------------------------------------------------------------------------

    def process(self, path: Path) -> Arrival | None:
        """Stamp one settled file into the output folder (or ``_failed``); None when there is nothing to do.

        Never raises: a watch goes on with the next file whatever happened to this one.
        """
        try:
            return self._process(Path(os.path.abspath(path)))
        except Exception as exc:  # a bug must not stop the watch; the line says it is one
            return Arrival(path, Outcome(path, error=unexpected(path, exc)))

    def _process(self, path: Path) -> Arrival | None:
        if not self.holds_lock():
            return Arrival(path, Outcome(path, error=self.lost or "the output folder is not held"))
        refused = self._refused(path)
        if refused is not None:
            if path in self._told:
                return None
            self._told.add(path)
            return self._failed(path, refused, None)
        if self.done(path):
            return None
        info = _stat(path)
        if info is None:
            return None  # gone again before it could be read
        item = self._item(path)
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the first read: told, never opened
            return Arrival(path, Outcome(path, skipped=f"{path}: not a regular file (a FIFO, device or socket)"))
        planned, record_key = self._planned(item)
        if isinstance(planned, DisclosureError):
            try:
                detect(path)
            except UnsupportedFormat as err:  # not media (notes.txt): skipped, as stamp skips it, never in _failed
                problems = self._keep_state(item, info, record_key, None, None, "skipped")
                return Arrival(path, Outcome(path, skipped=err.one_line()), problems=tuple(problems))
            except DisclosureError:
                pass  # unreadable or damaged: its failure is the record's, told first
            return self._failed(path, planned.one_line(), (info, record_key, None))
        try:
            source_sha256 = file_sha256(path)
        except DisclosureError as err:
            return self._failed(path, err.one_line(), (info, record_key, None))
        now = _stat(path)  # hashing a large file takes a while: replaced meanwhile (by a link), it is not read
        if now is None or not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
            line = DisclosureError(path, "was replaced while it was read; it is looked at again if it settles")
            return Arrival(path, Outcome(path, error=line.one_line()))
        outcome = stamp_job(planned, self.options)
        outcome = self._replacing_our_own(
            planned.destination, item, source_sha256, outcome, partial(stamp_job, planned)
        )
        if outcome.result is not None:
            # Checked and reported before the state is kept: a watch killed in between reports it again
            # after a restart rather than never.
            arrival = self._checked(Arrival(path, outcome), outcome.result.destination)
            problems = self._clear_failed(item.relative)
            problems += self._keep_state(item, info, record_key, source_sha256, outcome.result.destination, "stamped")
            return dataclasses.replace(arrival, problems=(*arrival.problems, *problems))
        if outcome.skipped is not None:
            problems = self._keep_state(item, info, record_key, source_sha256, None, "skipped")
            return Arrival(path, outcome, problems=tuple(problems))
        return self._failed(path, outcome.error or "not stamped", (info, record_key, source_sha256))

    def _refused(self, path: Path) -> str | None:
        """Why a path must not be stamped from where it is, before it is read: None when it may."""
        if not path.is_relative_to(self.inbox):
            return DisclosureError(path, f"is not inside the watched folder {self.inbox}").one_line()
        top = path.relative_to(self.inbox).parts[:1]
        if top and top[0].casefold() == FAILED:  # _FAILED too: one folder on a case-insensitive --output
            return DisclosureError(
                path, f"a top folder named {top[0]} in the watched folder would mix with the failed files"
            ).one_line()
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(Path(os.path.realpath(self.inbox))) or path.is_symlink():
            return DisclosureError(path, "is a symlink, or under one: not followed").one_line()
        return None

    def _replacing_our_own(
        self,
        destination: Path,
        item: Item,
        source_sha256: str,
        outcome: Outcome[StampResult],
        again: Callable[[StampOptions], Outcome[StampResult]],
    ) -> Outcome[StampResult]:
        """A changed source whose earlier output this watch wrote is stamped over it; anyone else's is kept.

        Also replaced: a plain copy of the source, as a sidecar format's stamp leaves it when killed
        between copying the media and writing its NAME.EXT.xmp (nothing of anyone's is lost).
        """
        exists = DisclosureError(destination, "already exists", "pass --overwrite to replace it").one_line()
        if outcome.error != exists:
            return outcome
        state = self._read_state(item.relative)
        earlier = state.get("output_sha256") if state is not None and state.get("outcome") == "stamped" else None
        try:
            there = file_sha256(destination)
        except DisclosureError:
            there = None
        if there is not None and there in (earlier, source_sha256):
            return again(dataclasses.replace(self.options, overwrite=True))
        reason = DisclosureError(
            destination,
            "already exists and is not an output of this watch (or was changed since); nothing was written",
            "move it away, then delete this file's entry in _failed to have it stamped again",
        )
        return Outcome(item.path, error=reason.one_line())

    def _checked(self, arrival: Arrival, destination: Path) -> Arrival:
        """The stamped file checked against the policies, its report written into ``report_dir``."""
        if self.policies is None:
            return arrival
        from .watch import check_arrival, write_arrival_report

        checked, report = check_arrival(destination, self.policies, self.strict, self.trust)
        problems = []
        if self.report_dir is not None:
            try:
                write_arrival_report(self.report_dir, checked, report)
            except DisclosureError as err:
                problems.append(err.one_line())  # the next arrival is still checked
        return dataclasses.replace(arrival, check=(checked, report), problems=tuple(problems))

    # -- what is kept: the state, the failed copies -------------------------------------------------------

    def _keep_state(
        self,
        item: Item,
        info: os.stat_result,
        record_key: str,
        source_sha256: str | None,
        kept: Path | None,
        outcome: str,
        reason: str | None = None,
        copied: bool = True,
    ) -> list[str]:
        """Write the state of ``item`` (atomically): what makes it done; the problems doing so."""
        state: dict[str, Any] = {
            "format": _STATE_FORMAT,
            "source": item.relative.as_posix(),  # for people; a name that is not UTF-8 is shown escaped
            "source_path_sha256": _path_digest(item.relative),
            "identity": _identity(info),
            "source_sha256": source_sha256,
            "record": record_key,
            "outcome": outcome,
            "reason": reason,
        }
        if not copied:
            state["copied"] = False  # a file that could not be read: its reason alone is in _failed
        try:
            if kept is not None:
                there = os.lstat(kept)
                state["kept"] = kept.relative_to(self.output).as_posix()  # for people: the done test derives it
                state["kept_size_mtime"] = [there.st_size, there.st_mtime_ns]
                if outcome == "stamped":
                    state["output_sha256"] = file_sha256(kept)
            text = json_dumps(state).encode()
            target = self._state_path(item.relative)
            self.state_dir.mkdir(parents=True, exist_ok=True)
            (self.state_dir / "lock").touch()  # where the states' mode comes from (rw-r--r--)
            replace_atomically(target, lambda temp: temp.write_bytes(text), _unchecked, self.state_dir / "lock")
        except (OSError, DisclosureError) as exc:
            line = exc.one_line() if isinstance(exc, DisclosureError) else f"{exc.strerror or exc}"
            return [f"the state of {item.relative} was not kept ({line}); it is looked at again next time"]
        return []

    def _failed_paths(self, relative: Path) -> tuple[Path, Path]:
        copy = self.failed_dir / relative
        return copy, copy.with_name(copy.name + ".txt")

    def _clear_failed(self, relative: Path) -> list[str]:
        """An earlier failure of a source that has now been stamped: its copy and reason removed."""
        problems = []
        for path in self._failed_paths(relative):
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                problems.append(f"{path}: the earlier failure could not be removed: {exc.strerror or exc}")
        return problems

    def _failed(self, path: Path, reason: str, known: tuple[os.stat_result, str, str | None] | None) -> Arrival:
        """Copy a file that could not be stamped into ``_failed`` with its reason; the watched file is only read.

        A file that cannot be read (no read permission) leaves its reason alone, saying it was not copied:
        it is done until it changes (a chmod does), not tried and told again at every rescan.
        """
        outcome = Outcome[StampResult](path, error=reason)
        if known is None:  # refused before it is read: told, never copied (a link, a path outside)
            return Arrival(path, outcome)
        info, record_key, source_sha256 = known
        item = self._item(path)
        copy, why = self._failed_paths(item.relative)
        try:
            if not copy.parent.resolve().is_relative_to(self.failed_dir.resolve()):
                raise DisclosureError(copy, f"leads outside {self.failed_dir} (a symlink)")
            copy.parent.mkdir(parents=True, exist_ok=True)
            try:
                digest = source_sha256 or file_sha256(path)
                unread = None
            except DisclosureError as err:
                digest, unread = None, err.one_line()
            if digest is not None:

                def same(temp: Path) -> None:
                    if file_sha256(temp) != digest:
                        raise DisclosureError(path, "changed while it was copied into _failed; it is looked at again")

                replace_atomically(copy, partial(_copy_same_file, path, info), same, mode_from=path)
            else:
                copy.unlink(missing_ok=True)  # an earlier copy is not this file's
            told = reason if unread is None or unread == reason else f"{reason}; {unread}"
            if unread is not None:
                told += " (not copied here)"
            text = (terminal_text(told) + "\n").encode("utf-8")
            mode = copy if unread is None else None  # the umask's: the source's mode is not known
            replace_atomically(why, lambda temp: temp.write_bytes(text), _unchecked, mode_from=mode)
        except (OSError, DisclosureError) as exc:
            line = exc.one_line() if isinstance(exc, DisclosureError) else f"{copy}: {exc.strerror or exc}"
            return Arrival(path, outcome, problems=(f"not copied into {FAILED}: {line}",))
        kept = copy if unread is None else why
        problems = self._keep_state(item, info, record_key, digest, kept, "failed", reason, copied=unread is None)
        return Arrival(path, outcome, failed_copy=copy if unread is None else None, problems=tuple(problems))


def _copy_same_file(source: Path, info: os.stat_result, temp: Path) -> None:
    """Copy ``source`` into ``temp`` if it is still the file ``info`` describes: never a link put in its place."""
    try:
        fd = os.open(source, READ_UNFOLLOWED)
    except OSError as exc:
        raise DisclosureError(source, f"cannot be copied: {exc.strerror or exc} (replaced by a link?)") from None
    with os.fdopen(fd, "rb") as handle, open(temp, "wb") as out:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (info.st_dev, info.st_ino):
            raise DisclosureError(source, "was replaced while it was being stamped; it is looked at again")
        shutil.copyfileobj(handle, out, 1 << 20)
