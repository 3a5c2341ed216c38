"""Real-time bronze: records acknowledged by `workbench serve` reach bronze by themselves, on
the real dbt project, through `workbench run --layer bronze` started by the follower; a bronze
lock held elsewhere (the daily job, another replica) makes the follower wait, never overlap."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.serve.server import Served, query, server_env, serving
from workbench.config import dbt_project_dir
from workbench.run.lock import lock_key

pytestmark = pytest.mark.integration

DEBOUNCE_SECONDS = 1.0
RETRY_SECONDS = 10.0  # contract: ServeOptions.follow_retry_seconds
# The documented bound (docs/ingest-api.md): debounce + two bronze runs; a bronze run of a
# small database takes 10-25 s on a shared test machine.
BRONZE_RUN_SECONDS = 45.0
MAX_DELAY_SECONDS = DEBOUNCE_SECONDS + 2 * BRONZE_RUN_SECONDS


def in_bronze(pg_env: dict[str, str], ids: list[str]) -> set[str]:
    exists = query(pg_env, "select to_regclass('bronze.bronze_transactions') is not null")
    if not exists[0][0]:
        return set()
    rows = query(
        pg_env,
        "select payload->>'transaction_id' from bronze.bronze_transactions"
        " where payload->>'transaction_id' = any(%s)",
        ids,
    )
    return {row[0] for row in rows}


def wait_for_bronze(pg_env: dict[str, str], ids: list[str], since: float) -> float:
    while time.monotonic() - since < MAX_DELAY_SECONDS:
        if in_bronze(pg_env, ids) == set(ids):
            return time.monotonic() - since
        time.sleep(0.5)
    raise AssertionError(f"{ids} not in bronze {MAX_DELAY_SECONDS}s after acknowledgement")


def follow_runs(served: Served, count: int) -> list[dict[str, Any]]:
    """The follower's first `count` run events (each is logged when its child has exited)."""
    deadline = time.monotonic() + BRONZE_RUN_SECONDS
    while len(served.named("serve.bronze_follow")) < count and time.monotonic() < deadline:
        time.sleep(0.2)
    return served.named("serve.bronze_follow")[:count]


def post(served: Served, ids: list[str]) -> float:
    with served.client() as client:
        answer = client.post(
            "/v1/transactions", json=[{"transaction_id": i, "amount": "1.00"} for i in ids]
        )
    assert answer.status_code == 202
    return time.monotonic()


def test_acknowledged_records_reach_bronze_and_a_held_lock_is_waited_for(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    env = server_env(
        pg_env,
        DBT_PROJECT_DIR=str(dbt_project_dir()),
        DBT_TARGET_PATH=str(tmp_path / "target"),
        DBT_LOG_PATH=str(tmp_path / "logs"),
        WORKBENCH_SERVE_BRONZE_DEBOUNCE_SECONDS=str(DEBOUNCE_SECONDS),
    )
    with serving(env) as served:
        acknowledged = post(served, ["RT1", "RT2"])
        delay = wait_for_bronze(pg_env, ["RT1", "RT2"], acknowledged)
        runs = follow_runs(served, 1)
        assert [run["outcome"] for run in runs] == ["built"]
        assert delay < DEBOUNCE_SECONDS + runs[0]["duration_seconds"] + 1.0  # no run before

        # The daily bronze job holds the lock: the follower's try-lock finds it busy, it tries
        # again later, and the record reaches bronze once the lock is free.
        conninfo = " ".join(
            f"{k}={pg_env[f'POSTGRES_{k.upper()}']}" for k in ("host", "port", "user", "password")
        )
        with psycopg.connect(f"{conninfo} dbname={pg_env['POSTGRES_DB']}") as holder:
            holder.execute("select pg_advisory_lock(%s::int4, %s::int4)", lock_key("bronze"))
            post(served, ["RT3"])
            assert follow_runs(served, 2)[1]["outcome"] == "busy"
            assert in_bronze(pg_env, ["RT3"]) == set()
            released = time.monotonic()
            holder.execute("select pg_advisory_unlock(%s::int4, %s::int4)", lock_key("bronze"))
        wait_for_bronze(pg_env, ["RT3"], released - RETRY_SECONDS)
        assert follow_runs(served, 3)[2]["outcome"] == "built"
        with served.client() as client:
            metrics = client.get("/metrics").text
        assert 'dbt_workbench_serve_bronze_follow_runs_total{outcome="built"} 2.0' in metrics
        assert 'dbt_workbench_serve_bronze_follow_runs_total{outcome="busy"} 1.0' in metrics
    assert query(
        pg_env,
        "select count(*) from bronze.bronze_transactions where source = 'api'",
    ) == [(3,)]
