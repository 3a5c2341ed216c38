"""Imports run one way: from the commands at the top down to the contract at the bottom.

Every `import` in workbench/ and workflows/ (including the ones inside functions, which keep a
command's start-up light) is read from the source with `ast`; a module may import its own
package, or a package that stands strictly below its own. Features of the same rank (ingest,
run, docs, ...) never import each other: what two of them share moves down.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The house, bottom to top. A package's rank is the highest it may sit; it imports only ranks below.
RANKS: dict[str, int] = {
    "contract": 0,  # facts shared with workflows/: standard library only
    "config": 1,
    "exit_codes": 1,
    "signals": 1,
    "retry": 1,  # waits between attempts at an HTTP peer: standard library only
    "db": 2,
    "params": 2,
    "dbt_cli": 2,
    "storage": 2,
    "observability": 3,
    "preparsed": 3,
    "ingest": 4,
    "run": 4,
    "docs": 4,
    "sample_data": 4,
    "submit": 4,
    "embed": 5,  # holds the platinum advisory lock (workbench.run.lock)
    "serve": 5,
    "jobs": 6,  # chains features: a platinum build, then embed
    "cli": 6,
    "demo": 7,  # drives the console script step by step, as a user would
}


def _component(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "workbench":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "workbench":  # `from workbench import cli` names a module
                found += [(node.lineno, f"workbench.{alias.name}") for alias in node.names]
    return found


def _sources(folder: str, root: Path = ROOT) -> list[Path]:
    return sorted((root / folder).rglob("*.py"))


def _violations_of_workbench(root: Path = ROOT) -> list[str]:
    problems = []
    for path in _sources("workbench", root):
        relative = path.relative_to(root).with_suffix("")
        own = _component(".".join(relative.parts))
        if own == "__init__":
            continue
        assert own in RANKS, f"{relative}: give package {own!r} a rank in RANKS"
        for line, module in _imports(path):
            other = _component(module)
            if other in (None, own, "__init__") or (
                module.count(".") >= 2 and _component(module.rsplit(".", 1)[0]) == own
            ):
                continue
            if other not in RANKS:
                continue  # `from workbench.x import name`: the module itself is checked
            if RANKS[other] >= RANKS[own]:
                problems.append(
                    f"{relative}:{line} imports {module} (rank {RANKS[other]} >= {RANKS[own]})"
                )
    return problems


def test_workbench_imports_only_downward() -> None:
    assert _violations_of_workbench() == []


def test_the_contract_needs_nothing_but_the_standard_library() -> None:
    for _, module in _imports(ROOT / "workbench" / "contract.py"):
        top = module.split(".")[0]
        assert top in {"__future__", "enum", "typing", "dataclasses"}, module


@pytest.mark.parametrize("path", _sources("workflows"), ids=lambda p: p.name)
def test_workflows_import_only_the_contract_of_the_runtime(path: Path) -> None:
    for line, module in _imports(path):
        if module.startswith("workbench") and module != "workbench":
            assert module.startswith("workbench.contract"), f"{path.name}:{line} imports {module}"


def test_an_upward_or_sideways_import_is_reported_with_its_line(tmp_path: Path) -> None:
    """The checker itself, on a small tree: config importing run (upward, inside a function)
    and ingest importing run (sideways) are both caught; run importing config is fine."""
    package = tmp_path / "workbench"
    (package / "run").mkdir(parents=True)
    (package / "ingest").mkdir()
    (package / "config.py").write_text("def f():\n    from workbench.run.lock import x\n")
    (package / "ingest" / "load.py").write_text("import os\nfrom workbench.run import lock\n")
    (package / "run" / "lock.py").write_text("from workbench.config import f\n")
    assert sorted(_violations_of_workbench(tmp_path)) == [
        "workbench/config:2 imports workbench.run.lock (rank 4 >= 1)",
        "workbench/ingest/load:2 imports workbench.run (rank 4 >= 4)",
    ]
