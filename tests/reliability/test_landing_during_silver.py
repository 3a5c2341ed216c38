"""A bronze landing committed while a silver run is between its models and its tests.

The webhook path lands and runs bronze at any time; a silver run holds only the silver lock. The
reconciliation test is bounded by the watermark of what the run's fate model processed (the
newest bronze_loaded_at it saw), so rows bronze loaded after that are the next run's, not lost.
Before that bound the run exited 1 (a data failure: never retried, pages) with nothing wrong.

The gate: with store_failures, dbt drops the test's previous failure table before it runs the
test query (dbt-core materializations/tests/test.sql, `adapter.drop_relation(old_relation)`).
A session holding a lock on that table parks the test after every model has committed; no
sleeps, the test waits for the run's backend to queue on that lock.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.dbt_support import land
from tests.reliability.corpus.build import PRODUCTS_FILE
from tests.reliability.support import (
    Database,
    subprocess_env,
    valid_sale,
    workbench,
    workbench_env,
    workbench_executable,
)
from tests.runtime.pg_watch import wait_until

pytestmark = pytest.mark.integration

GATE_TABLE = "test_failures.reconciliation_transactions"
# What the bronze model's incremental run commits, done by hand: every dbt invocation's
# on-run-end hook (failing_rows_views) reads the failure tables, so a real bronze run would queue
# behind the gate this test holds on one of them.
BRONZE_APPEND = """
insert into bronze.bronze_transactions
    (raw_id, payload, source, source_file, source_row, batch_id, payload_sha256, ingested_at,
     bronze_loaded_at)
select raw_id, payload, source, source_file, source_row, batch_id, payload_sha256, ingested_at,
    current_timestamp
from raw.transactions as landed
where not exists (select 1 from bronze.bronze_transactions as b where b.raw_id = landed.raw_id)
"""


def _queued_on_gate(db: Database) -> bool:
    return bool(
        db.scalar(
            "select count(*) from pg_locks"
            " where not granted and locktype = 'relation' and relation = %s::regclass",
            (GATE_TABLE,),
        )
    )


def test_a_bronze_landing_committed_mid_run_fails_no_reconciliation(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    db = Database(pg_env)
    with db.connect() as conn:
        land(conn, "transactions", [valid_sale(f"FIRST-{i}") for i in range(3)], batch_id="first")
    with workbench_env(db, tmp_path):
        assert workbench("ingest", str(PRODUCTS_FILE), "--entity", "products") == 0
        assert workbench("run", "--layer", "bronze") == 0
        assert workbench("run", "--layer", "silver") == 0  # creates the gate table
    with db.connect() as conn:
        land(conn, "transactions", [valid_sale(f"LATE-{i}") for i in range(2)], batch_id="late")

    gate = db.connect()
    gate.autocommit = False
    gate.execute(f"lock table {GATE_TABLE} in access share mode")
    silver = subprocess.Popen(
        [workbench_executable(), "run", "--layer", "silver"],
        env=subprocess_env(db, tmp_path / "silver"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(lambda: _queued_on_gate(db), "the silver run to reach its reconciliation test")
        with db.connect() as conn:
            conn.execute(BRONZE_APPEND)
        assert db.scalar("select count(*) from bronze.bronze_transactions") == 5
    finally:
        gate.rollback()
        gate.close()
        output, _ = silver.communicate(timeout=300)
    assert silver.returncode == 0, _failed_tests(output)

    with workbench_env(db, tmp_path):
        assert workbench("run", "--layer", "silver") == 0
    validated = {
        tid for (tid,) in db.rows("select transaction_id from silver.silver_validated_transactions")
    }
    assert validated == {"FIRST-0", "FIRST-1", "FIRST-2", "LATE-0", "LATE-1"}


def _failed_tests(output: str) -> list[str]:
    failed = []
    for line in output.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and event.get("event") == "dbt_invocation":
            failed.extend(str(node) for node in event.get("failed_nodes", []))
    return failed or [output[-3000:]]
