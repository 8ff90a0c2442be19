"""The replay facts sit below both the checks and the replay engine: no import cycle runs between them.

Read from the source (every import statement, those inside functions too), because importing any module of the
package imports the whole package first.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import maskaudit

PACKAGE = Path(maskaudit.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, modules: set[str]) -> Iterator[str]:
    """The package's modules a file imports; ``from a import b`` counts as ``a.b`` when that is a module."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in modules:
                yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in modules)


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: set(imported(path, set(files))) - {name, "maskaudit"} for name, path in files.items()}


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen


def test_the_replay_facts_import_nothing_from_the_checks() -> None:
    edges = graph()
    assert edges["maskaudit.replay.facts"], "the import graph found no imports at all"
    assert not {m for m in reachable(edges, "maskaudit.replay.facts") if m.startswith("maskaudit.checks")}


def test_no_module_of_the_checks_reaches_back_to_itself_through_the_replay() -> None:
    edges = graph()
    checks = {m for m in edges if m.startswith("maskaudit.checks")}
    assert "maskaudit.replay.facts" in reachable(edges, "maskaudit.checks.registry")
    for module in checks:
        replay = {m for m in reachable(edges, module) if m.startswith("maskaudit.replay")}
        assert not {m for r in replay for m in reachable(edges, r) if m.startswith("maskaudit.checks")}, module
