"""Write a disclosure record into a file: every carrier, atomically, verified.

Three ways to write, chosen by the format's store:

- **rewrite** (images, audio): a new file is made beside the target, checked
  (record reads back, decoded essence unchanged) and renamed over it;
- **edit in place** (MP4/MOV/M4V): the store appends or reuses an XMP box and
  retires the old one in a crash-safe order, touching no media bytes; a copy
  for ``--output`` is made first and edited the same way;
- **sidecar** (Matroska, MXF, EXR, DPX): ``NAME.EXT.xmp`` is written
  atomically beside the media file, which is never opened for writing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path

from .bounded import start_helper
from .carriers.base import (
    CarrierChanges,
    CarrierValues,
    MetadataStore,
    WriteMode,
    WriteSettings,
    file_sha256,
    first_text,
    same_ranges,
)
from .carriers.c2pa.identity import SigningIdentity
from .carriers.c2pa.manifest import REDACTABLE, build_manifest, discloses_the_same, needs_parent
from .carriers.c2pa.place import ManifestPlace, sidecar_manifest_path
from .carriers.c2pa.reading import C2paInfo, C2paState, read_manifest, read_manifest_with
from .carriers.c2pa.signing import ParentManifest, read_parent_manifest, sign
from .chinalabel import intended_label, label_changes, previous_label
from .display import terminal_text
from .errors import DisclosureError, os_errors_reported
from .fieldmap import FIELD_MAP, encode_record
from .formats import Format, detect
from .rebuild import rebuild_record
from .record import DisclosureRecord, check_writable
from .safewrite import Background, Verify, check_can_replace, exclusive, pending_edit, recover, replace_atomically
from .standard import keep_standard


class StampAction(StrEnum):
    STAMPED = "stamped"
    UNCHANGED = "unchanged"  # the target already carried this record over the same essence
    WOULD_STAMP = "would stamp"  # a dry run


@dataclass(frozen=True)
class StampResult:
    source: Path
    destination: Path
    format: str
    carriers: tuple[str, ...]
    keys_written: int
    keys_removed: int
    size_before: int
    size_after: int
    bytes_written: int
    sidecar: Path | None = None
    manifest: Path | None = None  # where the C2PA manifest went: the file itself or NAME.EXT.c2pa
    notes: tuple[str, ...] = ()
    action: StampAction = StampAction.STAMPED

    def line(self) -> str:
        """The one line that says what was done (paths shown by ``terminal_text``); notes come apart."""
        if self.action is StampAction.UNCHANGED:
            return f"unchanged {terminal_text(str(self.destination))} (already carries this record)"
        return (
            f"{self.action.value} {terminal_text(str(self.source))} -> {terminal_text(str(self.destination))} "
            f"({self.format}; {', '.join(self.carriers)}; {self.keys_written} values)"
        )


def check_target_choice(output_dir: str | Path | None, in_place: bool) -> None:
    """Exactly one of a copy into ``output_dir`` or ``in_place``: never a silent overwrite."""
    if in_place and output_dir is not None:
        raise DisclosureError("stamp", "--output and --in-place exclude each other", "choose one")
    if not in_place and output_dir is None:
        raise DisclosureError("stamp", "say where the stamped files go", "pass --output DIR for copies or --in-place")


def _destination(source: Path, output_dir: Path | None, in_place: bool, overwrite: bool, create: bool = True) -> Path:
    check_target_choice(output_dir, in_place)
    if in_place:
        check_can_replace(source)
        return source
    assert output_dir is not None
    if output_dir.exists() and not output_dir.is_dir():
        raise DisclosureError(output_dir, "--output must be a folder")
    if create:
        output_dir.mkdir(parents=True, exist_ok=True)
    destination = output_dir / source.name
    if destination.exists():
        if destination.resolve() == source.resolve():
            raise DisclosureError(source, "--output is the file's own folder", "use --in-place to change the file")
        if not overwrite:
            raise DisclosureError(destination, "already exists", "pass --overwrite to replace it")
        check_can_replace(destination)
    return destination


def _record_checker(record: DisclosureRecord, changes: CarrierChanges, source: Path) -> Callable[[CarrierValues], None]:
    """A check that ``record`` reads back from written carrier values, from every carrier written."""
    expected = record.to_json_dict()
    written_labels = {f"{c}:{k}" for c, keys in changes.items() for k, v in keys.items() if v is not None}

    def check(stored: CarrierValues) -> None:
        written, provenance = rebuild_record(stored)
        actual = written.to_json_dict()
        wrong = [f for f, v in expected.items() if actual.get(f) != v]
        # A standard tag this record does not fill (say, a composer it does not
        # name) may still disagree; only what was written here must agree.
        wrong += [c.field for c in provenance.conflicts if c.other_source in written_labels]
        if wrong:
            raise DisclosureError(
                source, f"the record did not read back ({', '.join(sorted(set(wrong)))}); nothing was written"
            )

    return check


def _label_checker(
    check: Callable[[CarrierValues], None], labelled: CarrierChanges, source: Path
) -> Callable[[CarrierValues], None]:
    """``check``, and that China's label reads back from every carrier it was written to."""

    def check_label(stored: CarrierValues) -> None:
        check(stored)
        for carrier, keys in labelled.items():
            for key, value in keys.items():
                held = stored.get(carrier, {}).get(key)
                if held is None or value is None or first_text(held) != first_text(value):
                    where = f"{carrier}:{key}"
                    raise DisclosureError(source, f"the China label did not read back ({where}); nothing was written")

    return check_label


@os_errors_reported("stamping", writes=True)
def stamp(
    path: str | Path,
    record: DisclosureRecord,
    *,
    output_dir: str | Path | None = None,
    in_place: bool = False,
    overwrite: bool = False,
    verify: Verify = Verify.touched,
    signing: SigningIdentity | None = None,
    redact: frozenset[str] = REDACTABLE,
    dry_run: bool = False,
    replace_standard: bool = False,
    id3v2_version: int | None = None,
    discard_credentials: bool = False,
    china_label: bool = False,
) -> StampResult:
    """Stamp ``record`` into ``path``, writing a copy into ``output_dir`` or the file itself.

    Nothing replaces the original until the record reads back from every
    carrier and the essence is shown unchanged (see ``Verify`` for files
    edited in place). With ``signing``, a C2PA manifest is signed last, over
    the written file; ``redact`` is what it leaves out (by default both ``prompts`` and ``persons``).

    A target that already carries ``record`` over the same essence is left
    alone (``action == "unchanged"``), so re-running a batch resumes it; a
    source that already carries it is copied to ``output_dir`` byte for byte
    (its signature intact); ``dry_run`` checks everything and writes nothing.

    A standard property that already holds another value is kept (with a note)
    unless ``replace_standard``; ``id3v2_version`` (3 or 4) forces the ID3 version.

    A file with C2PA content credentials is refused unless ``signing`` (the
    earlier manifest becomes the parent ingredient of the new one) or
    ``discard_credentials``: stamping without signing would break them.

    ``china_label`` also writes China's implicit label (GB 45438-2025, see ``chinalabel``) into every
    carrier that holds one, from the record; what others put in it is kept.
    """
    source = Path(path)
    notes: list[str] = []
    if in_place:
        source = _in_place_target(source, notes)
    target_dir = Path(output_dir) if output_dir else None
    locked = source if in_place else (target_dir / source.name if target_dir else source)
    with nullcontext() if dry_run else exclusive(locked):
        options = _Options(
            overwrite, verify, signing, redact, dry_run, discard_credentials, replace_standard, id3v2_version,
            china_label,
        )  # fmt: skip
        return _stamp_locked(source, record, target_dir, in_place, options, notes)


def _in_place_target(named: Path, notes: list[str]) -> Path:
    """The file an in-place stamp edits: a symlink's target (the link stays a link)."""
    target = Path(os.path.realpath(named)) if named.is_symlink() else named
    if target != named:
        notes.append(f"{named} is a symlink; its target {target} was stamped")
    return target


def _check_no_other_links(path: Path, info: Format, signing: bool) -> None:
    """Refuse to stamp in place one of several hard links to a file the stamp rewrites.

    Rewriting a file (every rewritten format, and any signing into the file) gives it a new inode,
    which would leave its other hard links with the old bytes.
    """
    links = path.stat().st_nlink
    if links > 1 and (info.store.write_mode is WriteMode.REWRITE or (signing and info.c2pa_embedded)):
        raise DisclosureError(
            path,
            f"has {links} hard links; stamping it in place would give it a new inode and leave the others unstamped",
            "stamp a copy with --output DIR, or make it a file of its own (cp) first",
        )


@dataclass(frozen=True)
class _Options:
    overwrite: bool
    verify: Verify
    signing: SigningIdentity | None
    redact: frozenset[str]
    dry_run: bool
    discard_credentials: bool
    replace_standard: bool
    id3v2_version: int | None
    china_label: bool = False


def _stamp_locked(
    source: Path,
    record: DisclosureRecord,
    target_dir: Path | None,
    in_place: bool,
    options: _Options,
    notes: list[str],
) -> StampResult:
    """``stamp`` once the file it writes is locked: recover it from a killed run, then write it."""
    overwrite, verify, signing, dry_run = options.overwrite, options.verify, options.signing, options.dry_run
    replace_standard = options.replace_standard
    settings = WriteSettings(id3v2_version=options.id3v2_version)
    if in_place and not dry_run:
        notes += recover(source)  # a run killed mid-edit: the old bytes back before anything is read
    elif not in_place:
        notes += filter(None, [pending_edit(source)])  # a source read for a copy is never written
    info = detect(source)
    if in_place:
        _check_no_other_links(source, info, signing is not None)
    check_writable(record, source)
    label = intended_label(record, source) if options.china_label else None
    if target_dir is not None and (target_dir / source.name).exists() and not overwrite:
        done = target_dir / source.name
        if carries(done, record, signing is not None, replace_standard, settings, label) and _same_essence(
            info.store, source, done
        ):
            return _unchanged(source, done, info)
    if in_place and carries(source, record, signing is not None, replace_standard, settings, label):
        return _unchanged(source, source, info)
    earlier = read_manifest(source, info.manifest_place)
    credentials = signing is not None or earlier.state is not C2paState.NONE
    if target_dir is not None and carries(source, record, credentials, replace_standard, settings, label):
        destination = _destination(source, target_dir, in_place, overwrite, create=not dry_run)
        return _copied(source, destination, info, dry_run)
    destination = _destination(source, target_dir, in_place, overwrite, create=not dry_run)
    notes += _credentials_kept(source, destination, info, earlier, signing, options.discard_credentials)
    if destination != source and not dry_run:
        notes += recover(destination)
    store = info.store.configured(settings)
    carriers = store.writable_carriers(source)
    if carriers != store.carriers:
        notes.append(
            "the moov box is before the media (faststart) or the file is fragmented, so the key fields were "
            "not written as MP4 item tags (that would move the media); the XMP box holds the whole record"
        )
    current = store.read_writable(source)
    changes, kept = keep_standard(encode_record(record, carriers), record, current, replace_standard)
    notes += kept
    if label is not None:
        before = previous_label(rebuild_record(current)[0])
        labelled, label_notes = label_changes(label, current, carriers, source, replace_standard, before)
        notes += label_notes
        for carrier, keys in labelled.items():
            changes.setdefault(carrier, {}).update(keys)
        check_values = _label_checker(_record_checker(record, changes, source), labelled, source)
    else:
        check_values = _record_checker(record, changes, source)
    flat = [v for keys in changes.values() for v in keys.values()]
    size_before = source.stat().st_size

    def result(
        action: StampAction, bytes_written: int, sidecar: Path | None = None, manifest: Path | None = None
    ) -> StampResult:
        return StampResult(
            source=source,
            destination=destination,
            format=info.format.value,
            carriers=carriers,
            keys_written=sum(v is not None for v in flat),
            keys_removed=sum(v is None for v in flat),
            size_before=size_before,
            size_after=destination.stat().st_size if destination.exists() else size_before,
            bytes_written=bytes_written,
            sidecar=sidecar,
            manifest=manifest,
            notes=tuple(notes),
            action=action,
        )

    if dry_run:
        info.store.essence_digest(source)  # a file that could not be stamped fails the dry run too
        return result(StampAction.WOULD_STAMP, 0)

    def check_record(written_path: Path) -> None:
        check_values(store.read_written(destination, written_path))

    sidecar = None
    plan = _plan_signing(source, destination, info, record, signing, options.redact, earlier)
    if plan is not None:
        notes += plan.warnings
    embed = plan is not None and info.c2pa_embedded
    if store.write_mode is WriteMode.SIDECAR:
        signed = 0
        if plan is not None and embed:  # the signed media first: a signing that fails leaves nothing behind
            copy_media = partial(shutil.copyfile, source)
            signed = _stamp_signed(source, destination, store, info.manifest_place, plan, copy_media)
        sidecar, bytes_written = _stamp_sidecar(source, destination, store, changes, check_record, copy=not embed)
        bytes_written += signed
    elif plan is not None and embed:
        patches = store.copy_patches(source, changes)
        write_carriers = partial(store.write, source, changes=changes) if patches is None else patches
        bytes_written = _stamp_signed(
            source, destination, store, info.manifest_place, plan, write_carriers, check_record
        )
    elif store.write_mode is WriteMode.IN_PLACE:
        bytes_written = _stamp_in_place(source, destination, store, changes, check_record, verify)
    else:
        bytes_written = _stamp_rewrite(source, destination, store, changes, check_record)
    manifest_file = None
    if plan is not None:
        manifest_file = destination if embed else _sign_sidecar(destination, info.manifest_place, plan)
    return result(StampAction.STAMPED, bytes_written, sidecar, manifest_file)


_OWNED_LABELS = {style.label for field in FIELD_MAP for style in field.styles if style.owned}


def carries(
    path: Path,
    record: DisclosureRecord,
    signed: bool = False,
    replace_standard: bool = False,
    settings: WriteSettings | None = None,
    china_label: dict[str, str] | None = None,
) -> bool:
    """Whether ``path`` already holds exactly ``record`` (and, if ``signed``, a valid manifest over it),
    laid out as ``settings`` ask (an ID3 tag of another version does not count).

    With ``china_label`` (the producer's keys), also China's label as a stamp would write it, in every
    carrier the stamp writes.

    Reads only the carriers (O(metadata)). Values from standard properties the record leaves out
    (written by other tools) do not count, nor, unless ``replace_standard``, standard values that
    disagree with it (a stamp keeps them); a value in our own namespace that the record leaves out
    does, since stamping would remove it.
    """
    try:
        info = detect(path)
        if settings is not None and not info.store.configured(settings).written_as_asked(path):
            return False
        stored = info.store.read(path)
        found, provenance = rebuild_record(stored)
        if china_label is not None:
            carriers = info.store.writable_carriers(path)
            if label_changes(china_label, stored, carriers, path, replace_standard, previous_label(found))[0]:
                return False
    except DisclosureError:
        return False
    conflicts = [c for c in provenance.conflicts if replace_standard or c.other_source in _OWNED_LABELS]
    problems = [p for p in provenance.problems if replace_standard or p.source in _OWNED_LABELS]
    if conflicts or problems or "schema_version" not in provenance.sources:
        return False  # conflicting, invalid, or never stamped (every rebuilt record has a default schema_version)
    expected, actual = record.to_json_dict(), found.to_json_dict()
    if any(actual.get(k) != v for k, v in expected.items()):
        return False
    if any(k not in expected and provenance.sources.get(k) in _OWNED_LABELS for k in actual):
        return False
    return not signed or read_manifest(path, info.manifest_place).state.holds


def _credentials_kept(
    source: Path,
    destination: Path,
    info: Format,
    earlier: C2paInfo,
    signing: SigningIdentity | None,
    discard: bool,
) -> list[str]:
    """Refuse to break content credentials without ``--sign`` (or ``--discard-credentials``); the notes to give.

    Only a sidecar store written in place leaves both the media and its NAME.EXT.c2pa untouched.
    """
    if earlier.state is C2paState.NONE or signing is not None:
        return []
    if info.store.write_mode is WriteMode.SIDECAR and destination == source:
        return []
    if not discard:
        raise DisclosureError(
            source,
            "carries C2PA content credentials that stamping without signing would break",
            "pass --sign to keep them as the parent ingredient of a new manifest, or --discard-credentials",
        )
    if info.c2pa_embedded:
        return ["its C2PA content credentials were discarded as asked: the earlier manifest no longer validates"]
    return [f"its C2PA content credentials were discarded as asked: {sidecar_manifest_path(source)} was not carried"]


def _copied(source: Path, destination: Path, info: Format, dry_run: bool) -> StampResult:
    """A source that already carries the record, copied byte for byte with its sidecars (signatures intact)."""
    pairs = [(source, destination), (sidecar_manifest_path(source), sidecar_manifest_path(destination))]
    sidecar, sidecar_copy = info.store.sidecar_of(source), info.store.sidecar_of(destination)
    if sidecar is not None and sidecar_copy is not None:
        pairs.append((sidecar, sidecar_copy))
    written = 0
    for there, here in pairs if not dry_run else ():
        if there != source and not there.exists():
            continue
        check_can_replace(here)
        digest = file_sha256(there)

        def same(temp: Path, there: Path = there, digest: str = digest) -> None:
            if file_sha256(temp) != digest:
                raise DisclosureError(there, "the copy does not match the original; nothing was written")

        written += replace_atomically(here, partial(shutil.copyfile, there), same, mode_from=there)
    return _unchanged(source, destination, info, written, size_of=source)


def _same_essence(store: MetadataStore, one: Path, other: Path) -> bool:
    try:
        return store.essence_digest(one) == store.essence_digest(other)
    except DisclosureError:
        return False


def _unchanged(
    source: Path, destination: Path, info: Format, bytes_written: int = 0, size_of: Path | None = None
) -> StampResult:
    """Nothing stamped: ``destination`` already carries the record (``bytes_written`` if it was copied there)."""
    size = (size_of or destination).stat().st_size
    return StampResult(
        source=source,
        destination=destination,
        format=info.format.value,
        carriers=info.store.carriers,
        keys_written=0,
        keys_removed=0,
        size_before=size,
        size_after=size,
        bytes_written=bytes_written,
        action=StampAction.UNCHANGED,
    )


@dataclass(frozen=True)
class _SigningPlan:
    identity: SigningIdentity
    manifest: dict[str, object]
    parent: Path | None  # the original file, as parentOf ingredient, when the stamped file is an edit of it
    parent_sidecar: ParentManifest | None = None  # its NAME.EXT.c2pa, read before the media is rewritten
    warnings: tuple[str, ...] = ()


def _plan_signing(
    source: Path,
    destination: Path,
    info: Format,
    record: DisclosureRecord,
    signing: SigningIdentity | None,
    redact: frozenset[str],
    earlier: C2paInfo,
) -> _SigningPlan | None:
    if signing is None:
        return None
    data = record.to_json_dict()
    had_manifest = earlier.state is not C2paState.NONE
    parent = source if needs_parent(data, had_manifest) else None
    # The content is what the earlier manifest signed and that one already discloses this AI use:
    # this manifest records a metadata edit, not a second AI edit.
    metadata_only = earlier.state.holds and discloses_the_same(earlier.record, data)
    warnings = []
    if earlier.state is C2paState.INVALID:
        warnings.append(
            f"its earlier C2PA manifest does not validate ({', '.join(earlier.codes)}); it is kept as the parent "
            "ingredient with that failure recorded, and `inspect` shows it"
        )
    elif earlier.state is C2paState.REMOTE:
        warnings.append(f"its C2PA manifest is remote ({earlier.remote_url}) and was not fetched or kept as ingredient")
    sidecar = sidecar_manifest_path(source)
    parent_sidecar = None
    if parent is not None and earlier.sidecar is not None and not info.c2pa_embedded:
        parent_sidecar = read_parent_manifest(source, info.manifest_place, sidecar)
    return _SigningPlan(
        identity=signing,
        manifest=build_manifest(data, destination.name, redact, parent=parent is not None, metadata_only=metadata_only),
        parent=parent,
        parent_sidecar=parent_sidecar,
        warnings=tuple(warnings),
    )


def _essence_checker(source: Path, store: MetadataStore, before: str) -> Callable[[Path], None]:
    def check(written_path: Path) -> None:
        if store.essence_digest(written_path) != before:
            raise DisclosureError(source, "stamping would change the essence; nothing was written")

    return check


def _both(*checks: Callable[[Path], None]) -> Callable[[Path], None]:
    def check(written_path: Path) -> None:
        for one in checks:
            one(written_path)

    return check


def _stamp_rewrite(
    source: Path, destination: Path, store: MetadataStore, changes: CarrierChanges, check_record: Callable[[Path], None]
) -> int:
    check_essence = _essence_checker(source, store, store.essence_digest(source))
    return replace_atomically(
        destination,
        lambda temp: store.write(source, temp, changes),
        _both(check_essence, check_record),
        mode_from=source,
    )


def _stamp_in_place(
    source: Path,
    destination: Path,
    store: MetadataStore,
    changes: CarrierChanges,
    check_record: Callable[[Path], None],
    verify: Verify,
) -> int:
    store.read(source)  # refuse a broken source by its own name, before anything is copied or written
    check = check_record
    if verify is Verify.full:
        check = _both(check_record, _essence_checker(source, store, store.essence_digest(source)))
    if destination == source:
        written = store.edit_in_place(source, changes, check)
        return sum(length for _, length in written)
    return replace_atomically(destination, lambda temp: store.write(source, temp, changes), check, mode_from=source)


def _stamp_sidecar(
    source: Path,
    destination: Path,
    store: MetadataStore,
    changes: CarrierChanges,
    check_record: Callable[[Path], None],
    copy: bool = True,
) -> tuple[Path, int]:
    """The XMP sidecar, after an atomic copy of the media to ``destination`` when it is elsewhere (and ``copy``)."""
    copied = 0
    if destination != source and copy:
        copied = replace_atomically(
            destination,
            lambda temp: shutil.copyfile(source, temp),
            _essence_checker(source, store, store.essence_digest(source)),
            mode_from=source,
        )
    target = store.sidecar_of(destination)
    existing = store.sidecar_of(source)
    assert target is not None and existing is not None, "a sidecar store names its sidecar"
    check_can_replace(target)
    # The new sidecar starts from the source's own, so XMP other tools put there is kept.
    size = replace_atomically(
        target,
        lambda temp: store.write(source, temp, changes),
        check_record,
        mode_from=existing if existing.exists() else source,
    )
    return target, copied + size


def _stamp_signed(
    source: Path,
    destination: Path,
    store: MetadataStore,
    place: ManifestPlace,
    plan: _SigningPlan,
    unsigned: Callable[[Path], object] | list[tuple[int, bytes]],
    check_record: Callable[[Path], None] | None = None,
) -> int:
    """The unsigned file signed into a temp file, checked and renamed over ``destination``.

    ``unsigned`` is either what writes it (``unsigned(path)``: the carriers written, or the media
    copied), or the writes that turn ``source`` into it (a store's ``copy_patches``): the SDK then
    reads ``source`` with them laid over it and no unsigned copy is made, so the file is read once
    and written once. The SDK signs and validates in the bounded helper process. The essence is
    checked here meanwhile, in a thread (reading and hashing release the GIL), while the SDK
    validates the new file (and it is flushed to disk): where it is bytes as they stand in the file
    (``essence_ranges``), they are compared with the source's; otherwise the source's digest is worked
    out while the SDK signs and compared with the new file's. On two cores it costs no time of its own.
    """
    start_helper()  # forked before any thread starts
    ranges = store.essence_ranges(source)  # also refuses a source without media before anything is written
    with Background(partial(store.essence_digest, source) if ranges is None else _nothing) as before:

        def same_essence(temp: Path) -> bool:
            if ranges is None:
                return store.essence_digest(temp) == before.value()
            return same_ranges(source, ranges, temp, store.essence_ranges(temp) or [])

        def produce(temp: Path) -> None:
            if not callable(unsigned):
                sign(source, temp, place, plan.manifest, plan.identity, parent=plan.parent, patches=unsigned)
                return
            copy = temp.with_name(temp.name + ".unsigned")
            try:
                unsigned(copy)
                sign(copy, temp, place, plan.manifest, plan.identity, parent=plan.parent, subject=source)
            finally:
                copy.unlink(missing_ok=True)

        def check(temp: Path) -> None:
            with Background(partial(same_essence, temp)) as same:
                found = _read_back(source, temp, place)
                if not found.state.holds:
                    raise DisclosureError(source, f"the new C2PA manifest does not validate ({', '.join(found.codes)})")
                if not same.value():
                    raise DisclosureError(source, "stamping would change the essence; nothing was written")
            if check_record is not None:
                check_record(temp)

        return replace_atomically(destination, produce, check, mode_from=source, sync_while_verifying=True)


def _read_back(source: Path, temp: Path, place: ManifestPlace) -> C2paInfo:
    """The new file's manifest; a refusal (the SDK over the memory limit, say) names the file stamped, not the temp."""
    try:
        return read_manifest(temp, place)
    except DisclosureError as exc:
        if exc.subject != str(temp):
            raise
        raise exc.about(source) from None


def _nothing() -> None:
    return None


def _sign_sidecar(media: Path, place: ManifestPlace, plan: _SigningPlan) -> Path:
    """A NAME.EXT.c2pa manifest store over the final media file, for formats the SDK cannot embed into.

    The stamped file itself stands as the parent ingredient where the manifest says it was edited, with the
    source's own NAME.EXT.c2pa (read before the media was rewritten) as that ingredient's manifest.
    """
    target = sidecar_manifest_path(media)
    check_can_replace(target)

    def produce(temp: Path) -> None:
        scratch = temp.with_name(temp.name + ".copy")  # the SDK writes a copy of the media we do not need
        try:
            parent = media if plan.parent is not None else None
            manifest_store = sign(
                media,
                scratch,
                place,
                plan.manifest,
                plan.identity,
                parent=parent,
                subject=media,
                parent_manifest=plan.parent_sidecar,
            )
            temp.write_bytes(manifest_store)
        finally:
            scratch.unlink(missing_ok=True)

    def check(temp: Path) -> None:
        found = read_manifest_with(media, place, temp)
        if not found.state.holds:
            raise DisclosureError(media, f"the new C2PA sidecar does not validate ({', '.join(found.codes)})")

    replace_atomically(target, produce, check, mode_from=media)
    return target
