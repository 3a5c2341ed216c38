"""Rerun from failure: the next attempt of a failed run retries only what failed or was skipped.

A model fails once (a switch table makes it divide by zero); after the switch is turned off,
the next attempt of the same Argo workflow (same WORKFLOW_UID, as when Argo's retryStrategy
makes a new pod or a person runs `argo retry`), or `workbench run --retry-of ID` on a laptop,
runs `dbt retry` from the failed attempt's run_results.json kept in PostgreSQL. What dbt retry
selects is dbt-core's core/dbt/task/retry.py: RETRYABLE_STATUSES of the previous results.
No Argo controller runs here: the attempts are `workbench run` processes with the env Argo sets.
Why the workflow uid identifies "the same run" (argo-workflows v4.1.2): `argo retry` rewrites the
failed Workflow object in place (server/workflow/workflow_server.go:498 calls
util.FormulateRetryWorkflow, workflow/util/util.go:1266, and updates that object), so
{{workflow.uid}} is unchanged; retryStrategy adds pods to the same Workflow. `argo resubmit`
creates a new Workflow (util.go:749 FormulateResubmitWorkflow), hence a new uid and a full build.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.runtime.cli_runs import CliRun, run_workbench
from tests.runtime.dbt_projects import runner_env, write_project

pytestmark = pytest.mark.integration

FILES = {
    "models/base.sql": "{{ config(materialized='table') }}\nselect 1 as id\n",
    "models/base.yml": (
        "models:\n  - name: base\n    columns:\n      - name: id\n        data_tests: [unique]\n"
    ),
    "models/flaky.sql": (
        "{{ config(materialized='table') }}\n"
        "select id, 1 / (select case when fail then 0 else 1 end from ctl.switch) as v\n"
        "from {{ ref('base') }}\n"
    ),
    "models/flaky_child.sql": (
        "{{ config(materialized='table') }}\nselect * from {{ ref('flaky') }}\n"
    ),
    "models/independent.sql": "{{ config(materialized='table') }}\nselect 2 as id\n",
}
FLAKY, CHILD = "model.scout_retail.flaky", "model.scout_retail.flaky_child"


def _switch(conninfo: str, *, fail: bool) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("create schema if not exists ctl")
        conn.execute("create table if not exists ctl.switch (fail boolean not null)")
        conn.execute("truncate ctl.switch")
        conn.execute("insert into ctl.switch values (%s)", (fail,))


def _oids(conninfo: str) -> dict[str, int]:
    """Table oids: dbt's table materialization swaps in a new relation each time it builds."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "select relname, oid::int from pg_class"
            " where relname in ('base', 'flaky', 'flaky_child', 'independent') and relkind = 'r'"
        ).fetchall()
    return {str(name): int(oid) for name, oid in rows}


def _built(conninfo: str, run: CliRun) -> dict[str, str]:
    (invocation,) = run.named("dbt_invocation")
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "select unique_id, status from ops.dbt_node_results where invocation_id = %s",
            (invocation["invocation_id"],),
        ).fetchall()
    return {str(uid): str(status) for uid, status in rows}


def _conninfo(env: dict[str, str]) -> str:
    return (
        f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} user={env['POSTGRES_USER']}"
        f" password={env['POSTGRES_PASSWORD']} dbname={env['POSTGRES_DB']}"
    )


@pytest.fixture()
def failed_once(pg_env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], CliRun, str]:
    """The first attempt of workflow uid A: flaky errors, its child is skipped."""
    conninfo = _conninfo(pg_env)
    _switch(conninfo, fail=True)
    project = write_project(tmp_path / "project", FILES)
    env = runner_env(pg_env, project, tmp_path / "attempt-1", WORKFLOW_UID="uid-a")
    first = run_workbench("run", "--layer", "silver", env=env)
    assert first.exit_code == 1, first.stderr
    statuses = _built(conninfo, first)
    assert statuses[FLAKY] == "error" and statuses[CHILD] == "skipped"
    assert statuses["model.scout_retail.base"] == "success"
    _switch(conninfo, fail=False)
    return env, first, conninfo


def test_the_next_attempt_of_the_workflow_builds_only_the_failed_model_and_its_children(
    failed_once: tuple[dict[str, str], CliRun, str], tmp_path: Path
) -> None:
    env, first, conninfo = failed_once
    before = _oids(conninfo)
    # a new pod: a fresh, empty target dir, as Argo gives every attempt
    env = {**env, "DBT_TARGET_PATH": str(tmp_path / "attempt-2" / "target")}
    second = run_workbench("run", "--layer", "silver", env=env)
    assert second.exit_code == 0, second.stderr
    (retry,) = second.named("dbt_retry")
    assert retry["retry_of"] == first.named("dbt_invocation")[0]["invocation_id"]
    assert retry["nodes_to_retry"] == [FLAKY, CHILD]
    assert _built(conninfo, second) == {FLAKY: "success", CHILD: "success"}
    after = _oids(conninfo)
    assert after["base"] == before["base"] and after["independent"] == before["independent"]
    assert "flaky_child" not in before and "flaky_child" in after
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "select retry_of::text from ops.dbt_invocations where invocation_id = %s",
            (second.named("dbt_invocation")[0]["invocation_id"],),
        ).fetchone()
    assert row == (retry["retry_of"],)

    # once it succeeded, a third attempt (another pod) has nothing to resume: a full build
    third = run_workbench("run", "--layer", "silver", env=env)
    assert third.exit_code == 0 and not third.named("dbt_retry")
    assert set(_built(conninfo, third)) >= {FLAKY, CHILD, "model.scout_retail.base"}


def test_another_workflow_builds_in_full(failed_once: tuple[dict[str, str], CliRun, str]) -> None:
    env, _first, conninfo = failed_once
    other = run_workbench("run", "--layer", "silver", env={**env, "WORKFLOW_UID": "uid-b"})
    assert other.exit_code == 0, other.stderr
    assert not other.named("dbt_retry")
    assert "model.scout_retail.base" in _built(conninfo, other)


def test_retry_of_on_a_laptop_resumes_that_invocation_and_refuses_what_it_cannot(
    failed_once: tuple[dict[str, str], CliRun, str],
) -> None:
    env, first, conninfo = failed_once
    laptop = {k: v for k, v in env.items() if k != "WORKFLOW_UID"}
    failed_id = first.named("dbt_invocation")[0]["invocation_id"]

    for bad, says in [
        (["--retry-of", "not-a-uuid"], "must be an invocation id"),
        (["--retry-of", "00000000-0000-4000-8000-000000000000"], "no invocation"),
        (["--retry-of", failed_id, "--layer", "gold"], "ran layer silver, not gold"),
        (["--retry-of", failed_id, "--select", "base"], "leave out --select"),
    ]:
        args = ["run", "--layer", "silver", *bad]
        refused = run_workbench(*args, env=laptop)
        assert refused.exit_code != 0
        (error,) = refused.named("invalid_parameters")
        assert says in error["error"]

    resumed = run_workbench("run", "--layer", "silver", "--retry-of", failed_id, env=laptop)
    assert resumed.exit_code == 0, resumed.stderr
    assert _built(conninfo, resumed) == {FLAKY: "success", CHILD: "success"}
    resumed_id = resumed.named("dbt_invocation")[0]["invocation_id"]
    again = run_workbench("run", "--layer", "silver", "--retry-of", resumed_id, env=laptop)
    assert "succeeded; nothing to retry" in again.named("invalid_parameters")[0]["error"]
