"""Write a disclosure record into a file: every carrier, atomically, verified."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import DisclosureError
from .fieldmap import encode_record
from .inspect import rebuild_record
from .media import detect
from .record import DisclosureRecord, check_writable
from .safewrite import check_can_replace, replace_atomically


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
    essence_digest: str


def check_target_choice(output_dir: str | Path | None, in_place: bool) -> None:
    """Exactly one of a copy into ``output_dir`` or ``in_place``: never a silent overwrite."""
    if in_place and output_dir is not None:
        raise DisclosureError("stamp", "--output and --in-place exclude each other", "choose one")
    if not in_place and output_dir is None:
        raise DisclosureError("stamp", "say where the stamped files go", "pass --output DIR for copies or --in-place")


def _destination(source: Path, output_dir: Path | None, in_place: bool, overwrite: bool) -> Path:
    check_target_choice(output_dir, in_place)
    if in_place:
        check_can_replace(source)
        return source
    assert output_dir is not None
    if output_dir.exists() and not output_dir.is_dir():
        raise DisclosureError(output_dir, "--output must be a folder")
    output_dir.mkdir(parents=True, exist_ok=True)
    destination = output_dir / source.name
    if destination.exists():
        if destination.resolve() == source.resolve():
            raise DisclosureError(source, "--output is the file's own folder", "use --in-place to change the file")
        if not overwrite:
            raise DisclosureError(destination, "already exists", "pass --overwrite to replace it")
        check_can_replace(destination)
    return destination


def stamp(
    path: str | Path,
    record: DisclosureRecord,
    *,
    output_dir: str | Path | None = None,
    in_place: bool = False,
    overwrite: bool = False,
) -> StampResult:
    """Stamp ``record`` into ``path``, writing a copy into ``output_dir`` or the file itself.

    The new file is checked before it replaces anything: the record reads back
    from every carrier and the decoded essence is unchanged.
    """
    source = Path(path)
    info = detect(source)
    check_writable(record, source)
    destination = _destination(source, Path(output_dir) if output_dir else None, in_place, overwrite)
    store = info.store
    essence = store.essence_digest(source)
    changes = encode_record(record, store.carriers)
    expected = record.to_json_dict()
    written_labels = {f"{c}:{k}" for c, keys in changes.items() for k, v in keys.items() if v is not None}

    def verify(temp: Path) -> None:
        if store.essence_digest(temp) != essence:
            raise DisclosureError(source, "stamping would change the essence; nothing was written")
        written, provenance = rebuild_record(store.read(temp))
        actual = written.to_json_dict()
        wrong = [f for f, v in expected.items() if actual.get(f) != v]
        # A standard tag this record does not fill (say, a composer it does not
        # name) may still disagree; only what was written here must agree.
        wrong += [c.field for c in provenance.conflicts if c.other_source in written_labels]
        if wrong:
            raise DisclosureError(
                source, f"the record did not read back ({', '.join(sorted(set(wrong)))}); nothing was written"
            )

    size_before = source.stat().st_size
    size_after = replace_atomically(
        destination, lambda temp: store.write(source, temp, changes), verify, mode_from=source
    )
    flat = [v for keys in changes.values() for v in keys.values()]
    return StampResult(
        source=source,
        destination=destination,
        format=info.format.value,
        carriers=store.carriers,
        keys_written=sum(v is not None for v in flat),
        keys_removed=sum(v is None for v in flat),
        size_before=size_before,
        size_after=size_after,
        essence_digest=essence,
    )
