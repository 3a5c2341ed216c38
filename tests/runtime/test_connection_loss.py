"""A database connection killed mid-run exits 2 (retryable); a rerun succeeds with whole data."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.runtime.cli_runs import finish, run_workbench, start_workbench
from tests.runtime.dbt_projects import GATED_FILES, runner_env, write_project
from tests.runtime.pg_watch import backends_blocked_on_gate, conninfo, wait_until

pytestmark = pytest.mark.integration

GATE_KEY = 515151


def test_terminated_backend_exits_2_and_a_rerun_succeeds(
    module_pg_env: dict[str, str], module_tmp: Path
) -> None:
    project = write_project(module_tmp / "project", GATED_FILES)
    env = runner_env(module_pg_env, project, module_tmp, GATE_KEY=str(GATE_KEY))
    with psycopg.connect(conninfo(module_pg_env), autocommit=True) as admin:
        first = run_workbench("run", "--layer", "silver", env=env)
        admin.execute("select pg_advisory_lock(%s::bigint)", (GATE_KEY,))
        run = start_workbench("run", "--layer", "silver", env=env)
        wait_until(lambda: bool(backends_blocked_on_gate(admin, GATE_KEY)), "the gated model")
        (victim,) = backends_blocked_on_gate(admin, GATE_KEY)
        admin.execute("select pg_terminate_backend(%s)", (victim,))
        admin.execute("select pg_advisory_unlock(%s::bigint)", (GATE_KEY,))
        killed = finish(run)
        after_kill = admin.execute("select count(*) from public_silver.gated").fetchone()
        rerun = run_workbench("run", "--layer", "silver", env=env)
        gated, child, mismatched = admin.execute(
            "select (select count(*) from public_silver.gated),"
            " (select count(*) from public_silver.gated_child),"
            " (select count(*) from public_silver.gated g"
            "  full join public_silver.gated_child c using (id)"
            "  where g.id is null or c.id is null or c.doubled <> 2 * c.id)"
        ).fetchone() or (None, None, None)
        history = admin.execute(
            "select exit_code, error from ops.dbt_invocations order by started_at"
        ).fetchall()
    assert first.exit_code == 0, first.stderr[-3000:]
    assert killed.exit_code == 2, killed.stderr[-3000:]
    assert after_kill == (1000,)  # the killed rebuild rolled back; the previous table stands
    nodes = {event["node_id"]: event for event in killed.named("dbt_node")}
    assert nodes["model.scout_retail.gated"]["status"] == "error"
    assert "server closed the connection" in nodes["model.scout_retail.gated"]["message"]
    assert nodes["model.scout_retail.gated_child"]["status"] == "skipped"
    (summary,) = killed.named("dbt_invocation")
    assert summary["error"] == "database connection lost during the run"
    assert rerun.exit_code == 0, rerun.stderr[-3000:]
    assert (gated, child, mismatched) == (1000, 1000, 0)
    assert [row[0] for row in history] == [0, 2, 0]
