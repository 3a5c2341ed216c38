"""The optional extras: what `workbench` says it needs is what pyproject.toml declares."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path

import pytest

from workbench import cli

PYPROJECT = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())


def _distributions(specs: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower() for spec in specs}


def test_each_command_needing_an_extra_names_an_extra_that_installs_its_module() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    for command, (extra, module) in cli.NEEDS_EXTRA.items():
        assert command in cli.COMMANDS
        assert extra in extras, f"pyproject.toml has no extra {extra!r}"
        assert module in _distributions(extras[extra])
    for command, (extra, module) in cli.IMPROVED_BY_EXTRA.items():
        assert command in cli.COMMANDS and module in _distributions(extras[extra])
    used = {extra for extra, _ in (*cli.NEEDS_EXTRA.values(), *cli.IMPROVED_BY_EXTRA.values())}
    assert used == set(extras)


def test_no_extra_is_a_runtime_dependency_and_workflows_leaves_the_wheel() -> None:
    runtime = _distributions(PYPROJECT["project"]["dependencies"])
    assert not runtime & {module for _, module in cli.NEEDS_EXTRA.values()}
    wheel = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert wheel == ["workbench"]


def test_a_missing_extra_stops_the_command_before_it_imports(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pgserver" else real_find_spec(name, *a),
    )
    assert cli.main(["demo"]) == cli.ExitCode.CONFIGURATION_ERROR
    err = capsys.readouterr().err
    assert "optional_extra_missing" in err and "dbt-workbench[demo]" in err
