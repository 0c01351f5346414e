"""Reading an object by ranges, through fsspec's in-memory filesystem (a real fsspec filesystem, no server).

Every fixture reads from storage as it reads from disk; a hostile or cut object is a row, never a crash,
and a container that claims more structure than the parse budget is refused, not fetched.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aidisclose.check import Verdict, _check_item
from aidisclose.policy import DEFAULT_POLICY, load_policy
from aidisclose.remote import TRAFFIC, RemoteItem, Storage, check_remote, list_remote

from .conftest import ALL_FIXTURES, FIXTURES

POLICIES = [load_policy(DEFAULT_POLICY)]
#: The inputs that once crashed a reader (the looping Matroska is left out: it runs into the 20 s parse limit).
REGRESSIONS = sorted(p for p in (Path(__file__).parent / "regressions").iterdir() if "loops" not in p.name)


@pytest.fixture
def memory() -> Iterator[Any]:
    import fsspec

    fs = fsspec.filesystem("memory")
    yield fs
    if fs.exists("/aidisclose-test"):
        fs.rm("/aidisclose-test", recursive=True)


def _put(fs: Any, name: str, data: bytes) -> RemoteItem:
    fs.pipe(f"/aidisclose-test/{name}", data)
    return RemoteItem(f"memory://aidisclose-test/{name}", size=len(data))


@pytest.mark.parametrize("path", [*ALL_FIXTURES, *REGRESSIONS], ids=lambda p: p.name)
def test_an_object_checks_as_the_same_file_on_disk(memory: Any, path: Path) -> None:
    from aidisclose.batch import Item

    local = _check_item(Item(path), POLICIES, False, None)
    remote, fetched = check_remote(_put(memory, path.name, path.read_bytes()), Storage(), policies=POLICIES,
                                   strict=False, trust=None)  # fmt: skip
    assert remote.model_dump(exclude={"path"}) == local.model_dump(exclude={"path"}) or (
        remote.reason == (local.reason or "").replace(str(path.parent), "memory://aidisclose-test")
    )
    assert remote.path == f"memory://aidisclose-test/{path.name}"
    assert fetched >= path.stat().st_size  # the digest reads every byte


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    source=st.sampled_from(ALL_FIXTURES),
    cut=st.integers(min_value=1, max_value=4096),
    noise=st.binary(min_size=0, max_size=64),
    at=st.integers(min_value=0, max_value=512),
)
def test_a_cut_or_garbled_object_is_a_row(memory: Any, source: Path, cut: int, noise: bytes, at: int) -> None:
    data = bytearray(source.read_bytes()[: max(1, len(source.read_bytes()) - cut)])
    data[at : at + len(noise)] = noise
    item = _put(memory, "garbled" + source.suffix, bytes(data))
    file, _ = check_remote(item, Storage(digest=False), policies=POLICIES, strict=False, trust=None)
    assert file.verdict in (Verdict.passed, Verdict.failed, Verdict.error, Verdict.skipped)
    assert file.path == item.url and file.sha256 is None


def test_a_structure_larger_than_the_parse_budget_is_refused(memory: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIDISCLOSE_PARSE_MEGABYTES", "1")
    # A PNG whose second chunk claims to be 64 MiB of text: fetching it would pass the 1 MiB budget.
    png = (FIXTURES / "images" / "overlay.png").read_bytes()
    lying = png[:33] + (64 << 20).to_bytes(4, "big") + b"tEXt" + b"\0" * (2 << 20)
    before = TRAFFIC.structure
    file, _ = check_remote(_put(memory, "lying.png", lying), Storage(digest=False), policies=POLICIES,
                           strict=False, trust=None)  # fmt: skip
    assert file.verdict is Verdict.error and "more than 1 MiB" in (file.reason or "")
    assert TRAFFIC.structure - before < 1 << 20


def test_an_object_that_cannot_be_read_is_named_by_its_url(memory: Any) -> None:
    from aidisclose.remote import inspect_remote

    outcome, _ = inspect_remote(RemoteItem("memory://aidisclose-test/missing.jpg"), Storage())
    assert str(outcome.path) == "memory://aidisclose-test/missing.jpg" and outcome.result is None
    assert outcome.error is not None and "memory://aidisclose-test/missing.jpg" in outcome.error


def test_listing_follows_the_local_walk(memory: Any, tmp_path: Path) -> None:
    from aidisclose.batch import walk

    tree = ["b.jpg", "a/x.jpg", "a.jpg", "a0.jpg", "a/.hidden.jpg", "a/y/z.jpg", "a.jpg.xmp", ".git/config", "c.mp4"]
    for name in tree:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
        memory.pipe(f"/aidisclose-test/tree/{name}", b"x")
    local = [(i.path.relative_to(tmp_path).as_posix(), i.skip) for i in walk([tmp_path])]
    remote = [
        (i.url.removeprefix("memory:///aidisclose-test/tree/"), i.skip)
        for i in list_remote(["memory://aidisclose-test/tree"], Storage())
    ]
    assert remote == local
    listed = list_remote(["memory://aidisclose-test/tree"], Storage())
    sidecars = [i.sidecars for i in listed if i.url.endswith("/a.jpg")]
    assert sidecars == [("memory:///aidisclose-test/tree/a.jpg.xmp",)]
