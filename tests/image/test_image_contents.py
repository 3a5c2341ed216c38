"""What the built image carries: what pods run, nothing the laptop or a caller of `submit` needs."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from tests.image.conftest import BuiltImage
from tests.image.engine import Engine
from workbench.cli import NEEDS_EXTRA
from workbench.contract import ExitCode

pytestmark = pytest.mark.integration  # a container and a PostgreSQL

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _python(engine: Engine, image: BuiltImage, code: str) -> str:
    done = engine(
        *engine.run_flags("run"), "--rm", "--read-only", "--entrypoint", "python", image.ref,
        "-c", code,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def _requirement_name(spec: str) -> str:
    match = re.match(r"[A-Za-z0-9._-]+", spec)
    assert match, spec
    return match.group(0).lower().replace("_", "-")


def test_the_venv_lacks_every_extra_and_the_workflow_authoring_code(
    engine: Engine, image: BuiltImage
) -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    unwanted = sorted({_requirement_name(s) for specs in extras.values() for s in specs})
    assert {"pgserver", "kubernetes"} <= set(unwanted)
    code = (
        "import importlib.metadata as m, importlib.util as u, json\n"
        "names = {d.metadata['Name'].lower().replace('_', '-') for d in m.distributions()}\n"
        "print(json.dumps({'dists': sorted(names),"
        " 'workflows': u.find_spec('workflows') is not None,"
        " 'hera': u.find_spec('hera') is not None}))\n"
    )
    found = json.loads(_python(engine, image, code))
    assert not set(unwanted) & set(found["dists"])
    assert "dbt-core" in found["dists"] and "dbt-workbench" in found["dists"]
    assert found["workflows"] is False and found["hera"] is False


def test_every_module_a_pod_runs_imports_in_the_image(engine: Engine, image: BuiltImage) -> None:
    """A module importing a package that only a dev tool or an extra pulls in works on a laptop
    and fails in the pod. The pod runs every command but those that need an extra."""
    extra_packages = sorted(f"workbench.{command}" for command in NEEDS_EXTRA)
    code = (
        "import importlib, pkgutil, workbench\n"
        f"skip = tuple({extra_packages!r})\n"
        "names = [m.name for m in pkgutil.walk_packages(workbench.__path__, 'workbench.')\n"
        "         if not m.name.startswith(skip)]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    assert int(_python(engine, image, code)) > 40


def test_a_command_whose_extra_is_missing_names_it(engine: Engine, image: BuiltImage) -> None:
    for command, (extra, module) in NEEDS_EXTRA.items():
        done = engine(*engine.run_flags("run"), "--rm", "--read-only", image.ref, command)
        assert done.returncode == ExitCode.CONFIGURATION_ERROR, done.stderr
        (event,) = [json.loads(line) for line in done.stderr.splitlines() if line]
        assert event["event"] == "optional_extra_missing"
        assert event["extra"] == extra and event["missing_module"] == module
        assert f"dbt-workbench[{extra}]" in event["hint"]
