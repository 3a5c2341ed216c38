"""What `workbench` tells Argo when it ends: its exit code, as a process and as an output file.

Issue 19, findings 14 and 6. A command module that does not import (a broken image: here a
psycopg whose libpq is missing) used to escape as a Python traceback, exit 1 - read as "a model
failed": never retried, and the wrong alert. It is now exit 3 (configuration: a person must fix
the image) with one JSON log line. Every exit, a usage error included, also writes
$WORKBENCH_OUTPUTS_DIR/exit_code, the WorkflowTemplate's `exit_code` output (globalName: the
Workflow's own outputs keep the last attempt's, argo-workflows v4.1.2 operator.go:1257,
3701-3710), since the controller's final message for a refused retry does not name the code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.runtime.cli_runs import run_workbench
from workbench.contract import EXIT_CODE_OUTPUT, OUTPUTS_DIR_ENV, ExitCode


def _env(outputs: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "DBT_"))}
    return {**env, OUTPUTS_DIR_ENV: str(outputs), "WORKBENCH_LOG_FORMAT": "json", **extra}


def test_a_command_that_does_not_import_exits_3_and_says_why(tmp_path: Path) -> None:
    broken = tmp_path / "site" / "psycopg"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text(
        "raise ImportError('no pq wrapper available: libpq library not found')\n"
    )
    outputs = tmp_path / "outputs"
    pythonpath = os.pathsep.join(
        filter(None, [str(tmp_path / "site"), os.environ.get("PYTHONPATH")])
    )
    done = run_workbench("run", "--layer=silver", env=_env(outputs, PYTHONPATH=pythonpath))
    assert done.exit_code == ExitCode.CONFIGURATION_ERROR, done.stderr
    (event,) = done.named("command_unavailable")
    assert event["command"] == "workbench run"
    assert "libpq library not found" in event["error"]
    assert "Traceback (most recent call last)" not in done.stderr.split("{", 1)[0]
    assert (outputs / EXIT_CODE_OUTPUT).read_text() == str(int(ExitCode.CONFIGURATION_ERROR))


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--layer=nope"],  # the runtime's own validation
        ["run", "--layer=silver", "--no-such-option"],  # argparse's usage error (SystemExit)
    ],
)
def test_every_exit_writes_the_exit_code_output(tmp_path: Path, argv: list[str]) -> None:
    outputs = tmp_path / "outputs"
    done = run_workbench(*argv, env=_env(outputs, POSTGRES_HOST="db.invalid"))
    assert done.exit_code == ExitCode.CONFIGURATION_ERROR
    assert (outputs / EXIT_CODE_OUTPUT).read_text() == str(done.exit_code)
