"""The package's import graph: no module of ``planner/`` imports, even indirectly, itself."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path, root: Path) -> str:
    """``planner/exact/classes.py`` -> ``planner.exact.classes``; a package is its folder."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Each module of ``package`` (a folder below ``root``) and the modules of it it imports.

    Every import counts, wherever it stands: in a function, under ``TYPE_CHECKING``. ``from
    pkg import name`` leads to the module ``pkg.name`` where there is one, else to ``pkg``
    itself (its ``__init__``, which re-exports the name and imports what defines it).
    """
    files = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the module's own package upwards
                    anchor = name.split(".")
                    anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base
                    for alias in node.names
                ]
            else:
                continue
            for imported in targets:
                target = imported
                while target and target not in files:  # ``import planner.exact.classes as c``
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """A cycle of the graph (its modules, the first repeated at the end), or [] if none."""
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as err:
        return list(err.args[1])
    return []


def test_planner_has_no_import_cycle() -> None:
    """No module inside planner/ imports itself through others, however indirectly."""
    graph = import_graph(ROOT, "planner")
    assert "planner.exact.classes" in graph["planner.exact.master"]  # the graph is read
    cycle = find_cycle(graph)
    assert not cycle, "import cycle: " + " -> ".join(cycle)


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        (  # two modules at the top of functions and under TYPE_CHECKING
            {
                "a.py": "def f():\n    from pkg.b import g\n",
                "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n",
            },
            True,
        ),
        (  # a re-export through the package's __init__
            {
                "__init__.py": "from pkg.a import f\n",
                "a.py": "from pkg import b\nfrom pkg import g\n",
            },
            True,
        ),
        (  # a relative import back into the package
            {"__init__.py": "from .a import f\n", "a.py": "from . import g\n"},
            True,
        ),
        (  # layers: the package imports both, a imports b, b imports nothing of pkg
            {"__init__.py": "from pkg.a import f\n", "a.py": "from pkg import b\n", "b.py": ""},
            False,
        ),
    ],
)
def test_cycle_detection_sees_every_kind_of_import(
    tmp_path: Path, files: dict[str, str], cycle: bool
) -> None:
    """The check finds cycles through function-level, TYPE_CHECKING, re-exported and relative
    imports, and none in a layered package."""
    (tmp_path / "pkg").mkdir()
    for name, text in {"__init__.py": "", **files}.items():
        (tmp_path / "pkg" / name).write_text(text)
    assert bool(find_cycle(import_graph(tmp_path, "pkg"))) is cycle
