"""Runtime errors exit 2, configuration errors 3, each with a clear message; recording/pushing
problems never change the code."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import psycopg
import pytest

from tests.pgcluster import TEST_PASSWORD, free_port
from tests.runtime.cli_runs import finish, run_workbench, start_workbench
from tests.runtime.dbt_projects import GATED_FILES, runner_env, write_project
from tests.runtime.pg_watch import backends_blocked_on_gate, conninfo, wait_until
from workbench.contract import ExitCode

GATE_KEY = 626262


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layer", "diamond"], "--layer must be one of"),
        (["--layer", "silver", "--select", "x; rm -rf /"], "rejected characters: ';'"),
        (["--layer", "silver", "--exclude=--fail-fast"], "may not start with '-'"),
        (["--layer", "gold", "--vars", '{"target": "prod"}'], "keys not allowed: target"),
        (["--layer", "gold", "--full-refresh", "maybe"], "--full-refresh must be true or false"),
        (["--layer", "gold", "--lock-timeout", "soon"], "--lock-timeout must be a number"),
    ],
)
def test_invalid_parameters_exit_3_before_anything_runs(
    tmp_path: Path, args: list[str], message: str
) -> None:
    env = runner_env({"POSTGRES_HOST": "db.invalid"}, tmp_path / "no-project", tmp_path)
    run = run_workbench("run", *args, env=env)
    assert run.exit_code == ExitCode.CONFIGURATION_ERROR
    (event,) = run.events()
    assert event["event"] == "invalid_parameters" and message in event["error"]
    assert not (tmp_path / "logs").exists()  # dbt never started


@pytest.mark.integration
def test_unreachable_database_exits_2_without_leaking_the_password(tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", GATED_FILES)
    pg = {
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(free_port()),  # nothing listens here
        "POSTGRES_USER": "postgres",
        "POSTGRES_PASSWORD": TEST_PASSWORD,
        "POSTGRES_DB": "postgres",
        "POSTGRES_SSLMODE": "disable",
    }
    run = run_workbench("run", "--layer", "silver", env=runner_env(pg, project, tmp_path))
    assert run.exit_code == 2
    (summary,) = run.named("dbt_invocation")
    assert summary["error"].startswith(
        f"cannot connect to PostgreSQL as postgres@127.0.0.1:{pg['POSTGRES_PORT']}"
    )
    # One line: the history cannot be written either, and saying so again adds nothing.
    assert [event["event"] for event in run.events()] == ["dbt_invocation"]
    assert TEST_PASSWORD not in run.stdout + run.stderr


@pytest.mark.integration
def test_history_and_push_failures_leave_the_exit_code_alone(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", GATED_FILES)
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        # Someone else's table where the history should go: every insert fails.
        conn.execute("create schema ops; create table ops.dbt_invocations (note text)")
    env = runner_env(pg_env, project, tmp_path, PUSHGATEWAY_URL=f"http://127.0.0.1:{free_port()}")
    run = run_workbench("run", "--layer", "silver", env=env)
    assert run.exit_code == 0, run.stderr[-3000:]
    assert len(run.named("history_write_failed")) == 1
    (push_failed,) = run.named("metrics_push_failed")
    assert "Connection refused" in push_failed["error"]
    assert run.named("dbt_invocation")[0]["success"] is True


@pytest.mark.integration
def test_a_missing_preparsed_manifest_is_named_and_exits_3(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", GATED_FILES)
    missing = tmp_path / "image" / "partial_parse.msgpack"
    env = runner_env(pg_env, project, tmp_path, DBT_PARTIAL_PARSE_FILE_PATH=str(missing))
    run = run_workbench("run", "--layer", "silver", env=env)
    assert run.exit_code == ExitCode.CONFIGURATION_ERROR  # the image is wrong: no retry
    (preparsed,) = run.named("preparsed_manifest")
    assert preparsed["reused"] is False
    assert preparsed["blockers"] == [f"no pre-parsed manifest at {missing}"]
    (summary,) = run.named("dbt_invocation")
    assert summary["error"] == f"DbtUsageException: File '{missing}' does not exist."


@pytest.mark.integration
def test_sigterm_cancels_dbt_records_the_run_and_exits_2(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", GATED_FILES)
    env = runner_env(pg_env, project, tmp_path, GATE_KEY=str(GATE_KEY))
    with psycopg.connect(conninfo(pg_env), autocommit=True) as admin:
        admin.execute("select pg_advisory_lock(%s::bigint)", (GATE_KEY,))
        process = start_workbench("run", "--layer", "silver", env=env)
        wait_until(lambda: bool(backends_blocked_on_gate(admin, GATE_KEY)), "the gated model")
        process.send_signal(signal.SIGTERM)
        run = finish(process)  # returns while the gate is still closed: dbt cancelled its query
        still_blocked = backends_blocked_on_gate(admin, GATE_KEY)
        recorded = admin.execute("select exit_code, error from ops.dbt_invocations").fetchall()
    assert run.exit_code == 2, run.stderr[-3000:]
    assert still_blocked == []
    (summary,) = run.named("dbt_invocation")
    assert summary["error"] == "interrupted: received SIGTERM"
    assert recorded == [(2, "interrupted: received SIGTERM")]


@pytest.mark.integration
def test_a_refused_password_exits_3_and_is_not_retried(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    """A wrong password heals on no retry: CONFIGURATION_ERROR, never RUNTIME_ERROR; and it is
    said once, in one line naming who connected where and the server's reason (no second
    warning that the history could not be written, no dbt start)."""
    project = write_project(tmp_path / "project", GATED_FILES)
    wrong = {**pg_env, "POSTGRES_PASSWORD": "not-the-password"}
    run = run_workbench("run", "--layer", "silver", env=runner_env(wrong, project, tmp_path))
    assert run.exit_code == ExitCode.CONFIGURATION_ERROR, run.stderr[-3000:]
    (summary,) = run.events()
    where = f"{pg_env['POSTGRES_USER']}@{pg_env['POSTGRES_HOST']}:{pg_env['POSTGRES_PORT']}"
    assert summary["event"] == "dbt_invocation"
    assert summary["error"] == (
        f"cannot connect to PostgreSQL as {where}/{pg_env['POSTGRES_DB']}: "
        f'password authentication failed for user "{pg_env["POSTGRES_USER"]}"'
    )
    assert "not-the-password" not in run.stdout + run.stderr


@pytest.mark.integration
def test_docs_says_a_refused_password_in_one_line_before_dbt_starts(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    wrong = {**pg_env, "POSTGRES_PASSWORD": "not-the-password"}
    env = runner_env(wrong, write_project(tmp_path / "project", GATED_FILES), tmp_path)
    run = run_workbench("docs", env=env)
    assert run.exit_code == ExitCode.CONFIGURATION_ERROR
    (event,) = run.events()
    assert event["event"] == "docs_generate_failed"
    assert event["error"].startswith(f"cannot connect to PostgreSQL as {pg_env['POSTGRES_USER']}@")
    assert "password authentication failed" in event["error"]
    assert not (tmp_path / "logs").exists()  # dbt never started


@pytest.mark.integration
def test_a_missing_database_exits_3(pg_env: dict[str, str], tmp_path: Path) -> None:
    project = write_project(tmp_path / "project", GATED_FILES)
    elsewhere = {**pg_env, "POSTGRES_DB": "no_such_database"}
    run = run_workbench("run", "--layer", "silver", env=runner_env(elsewhere, project, tmp_path))
    assert run.exit_code == ExitCode.CONFIGURATION_ERROR, run.stderr[-3000:]


def test_an_unexpected_exception_is_logged_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Python's own exit for an uncaught exception is 1 ("a model failed", never retried)."""
    from workbench import cli
    from workbench.sample_data import command as sample_data_command

    def crash(_args: object) -> int:
        raise KeyError("a bug")

    monkeypatch.setattr(sample_data_command, "execute", crash)
    assert cli.main(["sample-data", "--out", "unused"]) == ExitCode.RUNTIME_ERROR
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    (event,) = [entry for entry in logged if entry["event"] == "unexpected_error"]
    assert event["command"] == "sample-data" and "KeyError: 'a bug'" in event["exception"]
