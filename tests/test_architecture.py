"""Architecture rules: an acyclic import graph, self-contained stores, a thin CLI, and stable JSON shapes."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

import aidisclose
from aidisclose.carriers.base import MetadataStore, WriteMode
from aidisclose.formats import FORMATS, MediaFormat, supported_text

from .conftest import ROOT, run_cli

PACKAGE = "aidisclose"
SRC = ROOT / "src" / PACKAGE
CLI_FUNCTION_LIMIT = 50


# -- the source tree as modules ----------------------------------------------------------------------


def module_name(path: Path) -> str:
    """``src/aidisclose/a/b.py`` -> ``aidisclose.a.b``; a package's ``__init__.py`` is the package."""
    parts = [PACKAGE, *path.relative_to(SRC).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def source_files() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


MODULES: dict[str, Path] = {module_name(p): p for p in source_files()}


def is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# -- import graph ----------------------------------------------------------------------------------


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve_base(importer: str, node: ast.ImportFrom) -> str:
    """The absolute dotted name a ``from`` import names before ``import``."""
    if node.level == 0:
        return node.module or ""
    package = importer if is_package(importer) else importer.rpartition(".")[0]
    parts = package.split(".")
    if node.level - 1 >= len(parts):
        raise AssertionError(f"{importer}: relative import beyond the top-level package")
    base = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def explicit_targets(importer: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The modules one import statement names (``from .pkg import name`` names ``pkg.name`` if it is a module)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = _resolve_base(importer, node)
    targets = set()
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        targets.add(submodule if submodule in MODULES else base)
    return targets


def _ancestors(module: str) -> Iterator[str]:
    parts = module.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


def import_edges(importer: str, target: str) -> set[str]:
    """The aidisclose modules that importing ``target`` from ``importer`` runs.

    Importing ``aidisclose.a.b`` also runs the package ``aidisclose.a``, except a package
    that encloses the importer: that one is already being imported when the importer runs.
    """
    enclosing = set(_ancestors(importer)) | ({importer} if is_package(importer) else set())
    edges = {target} if target in MODULES else set()
    edges |= {p for p in _ancestors(target) if p in MODULES and p not in enclosing}
    return edges - {importer}


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        edges: set[str] = set()
        for node in runtime_imports(parse(path)):
            for target in explicit_targets(name, node):
                if target == PACKAGE or target.startswith(PACKAGE + "."):
                    edges |= import_edges(name, target)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path ``[a, b, ..., a]`` (depth-first, iterative), or None."""
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    for root in sorted(graph):
        if colour[root] != white:
            continue
        path = [root]
        colour[root] = grey
        pending = [iter(sorted(graph[root]))]
        while pending:
            nxt = next(pending[-1], None)
            if nxt is None:
                colour[path.pop()] = black
                pending.pop()
            elif colour[nxt] == grey:
                return [*path[path.index(nxt) :], nxt]
            elif colour[nxt] == white:
                colour[nxt] = grey
                path.append(nxt)
                pending.append(iter(sorted(graph[nxt])))
    return None


def test_no_module_imports_a_module_that_imports_it_back() -> None:
    graph = import_graph()
    assert graph["aidisclose.cli"], "no import of the CLI was found: the parse is broken"
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_reports_a_cycle_it_is_given() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


# -- each store and walker stands alone --------------------------------------------------------------

SELF_CONTAINED = sorted(m for m in MODULES if m.startswith(("aidisclose.carriers", "aidisclose.containers")))


@pytest.mark.parametrize("module", SELF_CONTAINED)
def test_every_carrier_and_container_module_imports_on_its_own(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"`import {module}` in a fresh interpreter failed:\n{done.stderr}"


# -- callers dispatch on what a store declares, not on its class -------------------------------------


def store_classes() -> set[str]:
    found: set[str] = set()
    for row in FORMATS:  # stores are made on first use: make them all, so every store class is loaded
        assert isinstance(row.store, MetadataStore)
    todo = list(MetadataStore.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls.__name__ not in found:
            found.add(cls.__name__)
            todo.extend(cls.__subclasses__())
    return found


def _class_names(node: ast.expr) -> Iterator[str]:
    """The class names an ``isinstance`` second argument names: a name, ``mod.Name``, a tuple, ``A | B``."""
    if isinstance(node, ast.Name):
        yield node.id
    elif isinstance(node, ast.Attribute):
        yield node.attr
    elif isinstance(node, ast.Tuple | ast.List):
        for element in node.elts:
            yield from _class_names(element)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        yield from _class_names(node.left)
        yield from _class_names(node.right)


def test_no_isinstance_on_store_classes_outside_the_carriers() -> None:
    stores = store_classes()
    assert stores, "no MetadataStore subclass found"
    carriers = SRC / "carriers"
    offences = []
    for path in source_files():
        if path.is_relative_to(carriers):
            continue
        for node in ast.walk(parse(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "isinstance"
                and len(node.args) == 2
            ):
                named = stores.intersection(_class_names(node.args[1]))
                if named:
                    offences.append(f"{path.relative_to(ROOT)}:{node.lineno}: isinstance(..., {', '.join(named)})")
    assert not offences, "dispatch on the store's declared write_mode instead:\n" + "\n".join(offences)


# -- the CLI stays thin ------------------------------------------------------------------------------


def test_cli_has_no_function_body_over_50_lines() -> None:
    """The body of each command is what must stay thin: its options and help text are declarations."""
    path = SRC / "cli.py"
    too_long = []
    for node in ast.walk(parse(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:]  # the docstring, which is the command's help
            assert node.end_lineno is not None
            span = node.end_lineno - body[0].lineno + 1 if body else 0
            if span > CLI_FUNCTION_LIMIT:
                too_long.append(f"cli.py:{node.lineno}: {node.name}'s body spans {span} lines")
    assert not too_long, f"functions over {CLI_FUNCTION_LIMIT} lines:\n" + "\n".join(too_long)


# -- the CLI and the library agree -------------------------------------------------------------------


def test_check_of_a_missing_file_gives_the_same_report_from_cli_and_library(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jpg"
    cli = run_cli("check", missing, "-f", "json")
    assert cli.exit_code == 2, cli.stdout + cli.stderr
    printed = cli.json()
    assert len(printed["files"]) == 1
    row = printed["files"][0]
    assert row["verdict"] == "error"
    assert "missing.jpg" in (row["reason"] or "")
    assert printed["summary"]["errors"] == 1

    report = aidisclose.check_files(missing)
    assert report.exit_code == 2
    assert [(f.path, f.verdict.value, f.reason) for f in report.files] == [(row["path"], row["verdict"], row["reason"])]


# -- the format table --------------------------------------------------------------------------------


def test_every_format_row_has_a_store_mime_and_recogniser() -> None:
    rows = [row.format for row in FORMATS]
    assert sorted(rows) == sorted(MediaFormat), "each MediaFormat needs exactly one row"
    text = supported_text()
    for row in FORMATS:
        assert row.mime, f"{row.format}: no MIME type"
        assert row.extension, f"{row.format}: no extension"
        assert "." not in row.extension, f"{row.format}: extension {row.extension!r} has a dot"
        assert isinstance(row.store, MetadataStore), f"{row.format}: store is not a MetadataStore"
        sidecar = row.store.write_mode is WriteMode.SIDECAR
        assert row.writes_sidecar == sidecar, f"{row.format}: the row's factory and its store disagree on sidecars"
        assert callable(row.recognise), f"{row.format}: no recogniser"
        assert row.label in text, f"{row.format}: supported_text() does not name {row.label!r}"


# -- published JSON schemas --------------------------------------------------------------------------


def test_inspect_json_matches_its_published_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    schema = run_cli("schema", "--inspect")
    assert schema.exit_code == 0, schema.stderr
    missing = tmp_path / "missing.jpg"
    inspected = run_cli("inspect", "fixtures/images/photo.jpg", "fixtures/audio/tone.mp3", missing, "-f", "json")
    assert inspected.exit_code == 2, inspected.stderr  # the missing file
    report = inspected.json()
    assert len(report["files"]) == 2
    assert [e["path"] for e in report["errors"]] == [str(missing)]
    validator = jsonschema.Draft202012Validator(schema.json())
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(report)]
    assert not problems, "inspect JSON breaks its schema:\n" + "\n".join(problems)
