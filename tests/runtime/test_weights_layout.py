"""The weights package keeps its shape: small modules, no import cycle among them (imports
inside functions count), one fetcher per source kind."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from alphacut.models.spec import SourceKind
from alphacut.runtime.weights import download

PACKAGE = "alphacut.runtime.weights"
FOLDER = Path(download.__file__).parent


def imports_of(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports anywhere (``__init__`` for its names)."""
    found: set[str] = set()
    modules = {p.stem for p in FOLDER.glob("*.py")}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == PACKAGE:
                names = [f"{PACKAGE}.{a.name}" if a.name in modules else PACKAGE
                         for a in node.names]
        else:
            continue
        for name in names:
            if name == PACKAGE:
                found.add("__init__")
            elif name.startswith(PACKAGE + "."):
                found.add(name[len(PACKAGE) + 1:].split(".")[0])
    return found


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*trail, node, nxt]
            if nxt not in state and (cycle := visit(nxt, [*trail, node])):
                return cycle
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start, [])):
            return cycle
    return None


def test_modules_are_small_and_import_no_cycle() -> None:
    files = sorted(FOLDER.glob("*.py"))
    assert {"cache", "registries", "http", "fetch_url", "fetch_pypi", "fetch_npm",
            "fetch_hf"} <= {p.stem for p in files}
    for path in files:
        assert len(path.read_text().splitlines()) <= 450, path.name
    graph = {p.stem: imports_of(p) - {p.stem} for p in files}
    assert find_cycle(graph) is None, find_cycle(graph)
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_every_source_kind_has_a_fetcher() -> None:
    assert set(download.FETCHERS) == set(get_args(SourceKind))
