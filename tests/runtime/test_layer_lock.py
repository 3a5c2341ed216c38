"""Two runs of one layer never overlap: the second waits for the first's advisory lock."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest

from tests.runtime.cli_runs import finish, run_workbench, start_workbench
from tests.runtime.dbt_projects import GATED_FILES, runner_env, write_project
from tests.runtime.pg_watch import (
    backends_blocked_on_gate,
    conninfo,
    lock_sessions,
    wait_until,
)
from workbench.config import PROJECT_ROOT
from workbench.run.lock import lock_key

pytestmark = pytest.mark.integration

GATE_KEY = 424242


def documented_lock_query() -> str:
    text = (PROJECT_ROOT / "docs" / "operate.md").read_text()
    (query,) = [q for q in re.findall(r"```sql\n(.*?)```", text, flags=re.S) if "pg_locks" in q]
    return str(query)


def test_second_run_of_a_layer_waits_and_never_overlaps(
    module_pg_env: dict[str, str], module_tmp: Path
) -> None:
    project = write_project(module_tmp / "project", GATED_FILES)
    env_first = runner_env(module_pg_env, project, module_tmp / "first", GATE_KEY=str(GATE_KEY))
    env_second = runner_env(module_pg_env, project, module_tmp / "second", GATE_KEY=str(GATE_KEY))
    with psycopg.connect(conninfo(module_pg_env), autocommit=True) as watcher:
        watcher.execute("select pg_advisory_lock(%s::bigint)", (GATE_KEY,))  # close the gate
        first = start_workbench("run", "--layer", "silver", env=env_first)
        wait_until(lambda: bool(backends_blocked_on_gate(watcher, GATE_KEY)), "first run's model")
        second = start_workbench(
            "run", "--layer", "silver", "--lock-timeout", "300", env=env_second
        )
        wait_until(lambda: lock_sessions(watcher) == 2, "second run at the layer lock")
        watcher.execute("select pg_advisory_unlock(%s::bigint)", (GATE_KEY,))  # open it
        first_run, second_run = finish(first), finish(second)
        rows = watcher.execute(
            "select invocation_id, started_at, finished_at, lock_wait_seconds, exit_code"
            " from ops.dbt_invocations order by started_at"
        ).fetchall()
        node_spans = watcher.execute(
            "select invocation_id, min(started_at), max(finished_at)"
            " from ops.dbt_node_results group by invocation_id"
        ).fetchall()
    assert (first_run.exit_code, second_run.exit_code) == (0, 0), second_run.stderr[-2000:]
    (waiting,) = second_run.named("lock_waiting")
    assert (waiting["lock"], waiting["layer"]) == ("silver", "silver")
    assert first_run.named("lock_waiting") == []
    assert len(rows) == 2 and [row[4] for row in rows] == [0, 0]
    (first_id, _, first_end, _, _), (second_id, second_start, _, second_wait, _) = rows
    assert str(first_id) == first_run.named("dbt_invocation")[0]["invocation_id"]
    assert second_start >= first_end
    spans = {str(row[0]): row for row in node_spans}
    assert spans[str(second_id)][1] >= spans[str(first_id)][2]
    assert float(str(second_wait)) > 0


def test_lock_timeout_exits_2_with_a_clear_message(
    module_pg_env: dict[str, str], module_tmp: Path
) -> None:
    project = write_project(module_tmp / "project", GATED_FILES)
    env = runner_env(module_pg_env, project, module_tmp / "timeout")
    with psycopg.connect(conninfo(module_pg_env), autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s::int4, %s::int4)", lock_key("gold"))
        holder_pid = holder.info.backend_pid
        # `all` takes bronze and silver first, then cannot get gold.
        run = run_workbench("run", "--layer", "all", "--lock-timeout", "0.5", env=env)
        holders = holder.execute(documented_lock_query()).fetchall()
        recorded = holder.execute(
            "select exit_code, error, nodes_total, lock_wait_seconds"
            " from ops.dbt_invocations where layer = 'all'"
        ).fetchall()
        others = holder.execute(
            "select count(*) from pg_locks where locktype = 'advisory' and pid <> pg_backend_pid()"
        ).fetchone()
    assert run.exit_code == 2
    (summary,) = run.named("dbt_invocation")
    assert "layer lock 'gold' is held by another run" in summary["error"]
    assert "--lock-timeout" in summary["error"]
    assert run.named("dbt_node") == []
    assert recorded == [(2, summary["error"], 0, 0.5)]
    assert others == (0,)  # bronze and silver were released with the process
    assert [row[:2] for row in holders] == [(3, holder_pid)]  # the documented query finds us


def test_maintenance_does_not_wait_for_bronze(
    module_pg_env: dict[str, str], module_tmp: Path
) -> None:
    project = write_project(module_tmp / "project", GATED_FILES)
    env = runner_env(module_pg_env, project, module_tmp / "maintenance")
    with psycopg.connect(conninfo(module_pg_env), autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s::int4, %s::int4)", lock_key("bronze"))
        run = run_workbench("run", "--layer", "maintenance", "--lock-timeout", "0", env=env)
    assert run.exit_code == 0, run.stderr[-2000:]
    assert run.named("lock_waiting") == []
    assert {event["node_id"] for event in run.named("dbt_node")} == {
        "model.scout_retail.gated",
        "model.scout_retail.gated_child",
    }


def test_a_custom_selection_holds_every_layer_lock(
    module_pg_env: dict[str, str], module_tmp: Path
) -> None:
    """`--select` replaces the layer's selector and may reach any layer (silver_products+ builds
    gold and platinum), so a silver run with a selection must also wait for the gold lock."""
    project = write_project(module_tmp / "project", GATED_FILES)
    env = runner_env(module_pg_env, project, module_tmp / "custom")
    with psycopg.connect(conninfo(module_pg_env), autocommit=True) as holder:
        holder.execute("select pg_advisory_lock(%s::int4, %s::int4)", lock_key("gold"))
        custom = run_workbench(
            "run", "--layer", "silver", "--select", "gated", "--lock-timeout", "0.5", env=env
        )
        plain = run_workbench("run", "--layer", "silver", "--lock-timeout", "0.5", env=env)
    assert custom.exit_code == 2
    (summary,) = custom.named("dbt_invocation")
    assert "layer lock 'gold' is held by another run" in summary["error"]
    assert custom.named("dbt_node") == []
    assert plain.exit_code == 0, plain.stderr[-2000:]
