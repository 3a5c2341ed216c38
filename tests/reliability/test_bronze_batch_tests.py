"""The serve follower's bronze runs test their batch; the daily bronze job tests whole tables.

On real PostgreSQL with 50k raw transactions (landed over 30 days) in bronze, through
`workbench run --layer bronze` in a child process, as the follower runs it (its own command,
workbench.serve.follower.bronze_command, with WORKBENCH_TEST_SCOPE=batch in its environment,
FOLLOWER_ENV) and as the daily CronWorkflow runs it (the same command without it):
- after 1,000 new records the follower's run starts no sequential scan of raw.transactions or
  bronze.bronze_transactions (PostgreSQL's own counters, pg_stat_user_tables): its tests read
  the rows it wrote (`bronze_loaded_at > ...`), the source tests the raw rows bronze is about
  to read (`raw_id > ...`); the daily job's tests scan whole tables;
- a row appended twice in the batch (its raw_id repeats an old row's: `unique` looks its
  batch's keys up in the whole table) fails the follower's run; a null is refused by bronze's
  own NOT NULL constraints (the ensure_not_null post-hook), not left for a test to find;
- an old duplicate is outside the batch: the follower stays green, the daily job fails.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.dbt_support import run_results
from tests.pgcluster import PostgresCluster
from tests.reliability.support import (
    Database,
    create_database,
    drop_database,
    subprocess_env,
)
from workbench.contract import TEST_SCOPE_ENV
from workbench.ingest.schema import ensure_raw_schema
from workbench.serve.follower import FOLLOWER_ENV, bronze_command

pytestmark = pytest.mark.integration

TABLES = (("raw", "transactions"), ("bronze", "bronze_transactions"))
UNIQUE = "test.scout_retail.unique_bronze_transactions_raw_id"
SOURCE_UNIQUE = "test.scout_retail.source_unique_raw_transactions_raw_id"
INSERT = """
insert into raw.transactions
    (payload, source, source_file, source_row, batch_id, payload_sha256, ingested_at)
select jsonb_build_object('transaction_id', %(file)s || g), 'jsonl', %(file)s, g, %(file)s,
       md5(g::text), now() - %(ago)s::interval + g * %(step)s::interval
from generate_series(1, %(count)s) as g
"""


@pytest.fixture(scope="module")
def bronze(
    pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, Path]]:
    db = create_database(pg_cluster)
    workdir = tmp_path_factory.mktemp("bronze-batch")
    try:
        with db.connect() as conn:
            ensure_raw_schema(conn)
            conn.execute(INSERT, {"file": "old", "ago": "30 days", "step": "50 s", "count": 50_000})
            # as autovacuum leaves it: statistics of the old rows, none of the new ones
            conn.execute("analyze raw.transactions")
        code, _ = _daily(db, workdir)
        assert code == 0
        # What autovacuum would do after these 50k-row loads, done now so that it does not
        # while the test counts sequential scans: its VACUUM summarizes raw's unsummarized BRIN
        # ranges with a heap scan PostgreSQL counts as a sequential scan of the whole table
        # (seen in CI under load). The 1,000 rows landed later stay below its thresholds.
        with db.connect() as conn:
            conn.execute("vacuum (analyze) raw.transactions, bronze.bronze_transactions")
        yield db, workdir
    finally:
        drop_database(pg_cluster, db)


def _run(
    db: Database, workdir: Path, extra: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    env = subprocess_env(db, workdir, extra or {})
    env.pop(TEST_SCOPE_ENV, None)
    env.update(extra or {})
    done = subprocess.run(
        [*bronze_command(), "--force"], env=env, capture_output=True, text=True, check=False
    )
    return done.returncode, run_results(workdir / "target")


def _follower(db: Database, workdir: Path) -> tuple[int, dict[str, Any]]:
    return _run(db, workdir, FOLLOWER_ENV)


def _daily(db: Database, workdir: Path) -> tuple[int, dict[str, Any]]:
    return _run(db, workdir)


def _failures(results: dict[str, Any], prefix: str) -> int:
    (found,) = [r for uid, r in results.items() if uid.startswith(prefix + ".")]
    return int(found["failures"])


def _compiled_test(workdir: Path, prefix: str) -> str:
    compiled = workdir / "target" / "compiled" / "scout_retail"
    (path,) = compiled.rglob(f"{prefix.split('.')[-1]}.sql")
    return path.read_text()


def _seq_scans(db: Database, column: str = "seq_scan") -> dict[str, int]:
    """PostgreSQL's per-table counters: sequential scans started, or the rows they read."""
    assert column in ("seq_scan", "seq_tup_read")
    return {
        f"{schema}.{table}": int(count)
        for schema, table, count in db.rows(
            f"select schemaname, relname, {column} from pg_stat_user_tables"
            " where (schemaname, relname) in ((%s, %s), (%s, %s))",
            tuple(part for pair in TABLES for part in pair),
        )
    }


# Rows a sequential scan may read without having read the table: autovacuum summarizing the
# BRIN range the new rows opened (raw's BRIN indexes autosummarize) scans that one range of 128
# pages, and PostgreSQL counts it as a sequential scan (table_beginscan_strat). A whole-table
# scan reads all 51,000.
SUMMARIZED_RANGES_ROWS = 2 * 128 * 100


def _land(db: Database, tag: str, count: int) -> None:
    with db.connect() as conn:
        conn.execute(INSERT, {"file": tag, "ago": "0 s", "step": "1 ms", "count": count})


def test_the_followers_tests_read_the_batch_and_the_daily_jobs_whole_tables(
    bronze: tuple[Database, Path],
) -> None:
    db, workdir = bronze
    _land(db, "new", 1_000)
    before = _seq_scans(db, "seq_tup_read")
    code, results = _follower(db, workdir)
    assert code == 0
    time.sleep(1.5)  # the backends have exited; let their last statistics reach the counters
    after = _seq_scans(db, "seq_tup_read")
    assert set(before) == {f"{s}.{t}" for s, t in TABLES}
    read = {name: after[name] - before[name] for name in before}
    scanned = sorted(name for name, rows in read.items() if rows > SUMMARIZED_RANGES_ROWS)
    assert scanned == [], f"the follower's run scanned {scanned} in full: {read}"
    assert "raw_id = any(array(select raw_id from" in _compiled_test(workdir, UNIQUE)
    assert "bronze_loaded_at > '" in _compiled_test(workdir, UNIQUE)
    assert "raw_id > '" in _compiled_test(workdir, SOURCE_UNIQUE)
    assert all(r["status"] in ("pass", "success") for r in results.values()), results

    _land(db, "daily", 1_000)
    before = _seq_scans(db)
    code, _ = _daily(db, workdir)
    assert code == 0
    deadline = time.monotonic() + 10
    while not (scanned := [n for n, c in _seq_scans(db).items() if c > before[n]]):
        assert time.monotonic() < deadline, "the daily job's tests read whole tables"
        time.sleep(0.2)
    assert "bronze_loaded_at" not in _compiled_test(workdir, UNIQUE)


def test_a_bad_row_in_the_batch_fails_the_followers_run(bronze: tuple[Database, Path]) -> None:
    db, workdir = bronze
    with db.connect() as conn:
        # bronze appending an old raw row a second time
        conn.execute(
            "insert into bronze.bronze_transactions"
            " select raw_id, payload, source, source_file, source_row, batch_id, payload_sha256,"
            " ingested_at, now() from bronze.bronze_transactions where raw_id = 1"
        )
    code, results = _follower(db, workdir)
    assert code == 1
    assert _failures(results, UNIQUE) == 1
    # a failing test keeps its batch: still red until the rows are fixed
    code, results = _follower(db, workdir)
    assert code == 1
    assert _failures(results, UNIQUE) == 1
    with db.connect() as conn:
        conn.execute(
            "delete from bronze.bronze_transactions where raw_id = 1 and bronze_loaded_at ="
            " (select max(bronze_loaded_at) from bronze.bronze_transactions where raw_id = 1)"
        )
    code, _ = _follower(db, workdir)
    assert code == 0


def _nullable(db: Database, table: str) -> list[str]:
    return [
        name
        for (name,) in db.rows(
            "select attname from pg_attribute where attnum > 0 and not attisdropped"
            " and not attnotnull and attrelid = %s::regclass order by attnum",
            (table,),
        )
    ]


def test_bronze_refuses_a_null_in_every_column(bronze: tuple[Database, Path]) -> None:
    db, workdir = bronze
    assert _nullable(db, "bronze.bronze_transactions") == []
    assert _nullable(db, "bronze.bronze_products") == []
    columns = [
        name
        for (name,) in db.rows(
            "select attname from pg_attribute where attnum > 0 and not attisdropped"
            " and attrelid = 'bronze.bronze_transactions'::regclass"
        )
    ]
    assert "payload" in columns and "bronze_loaded_at" in columns
    with db.connect() as conn:
        for column in columns:
            with pytest.raises(psycopg.errors.NotNullViolation), conn.transaction():
                conn.execute(
                    f"update bronze.bronze_transactions set {column} = null where raw_id = 2"
                )
        # a bronze table built before the constraints existed gets them on its next run
        conn.execute(
            "alter table bronze.bronze_transactions"
            " alter column payload drop not null, alter column bronze_loaded_at drop not null"
        )
    assert _nullable(db, "bronze.bronze_transactions") == ["payload", "bronze_loaded_at"]
    _land(db, "upgrade", 10)
    code, _ = _follower(db, workdir)
    assert code == 0
    assert _nullable(db, "bronze.bronze_transactions") == []


def test_an_old_bad_row_is_the_daily_jobs_to_find(bronze: tuple[Database, Path]) -> None:
    db, workdir = bronze
    with db.connect() as conn:
        # an old row appended twice long ago: neither copy is in a follower's batch
        conn.execute(
            "insert into bronze.bronze_transactions"
            " select raw_id, payload, source, source_file, source_row, batch_id, payload_sha256,"
            " ingested_at, bronze_loaded_at from bronze.bronze_transactions where raw_id = 3"
        )
    try:
        code, results = _follower(db, workdir)
        assert code == 0
        assert _failures(results, UNIQUE) == 0
        code, results = _daily(db, workdir)
        assert code == 1
        assert _failures(results, UNIQUE) == 1
    finally:
        with db.connect() as conn:
            conn.execute(
                "delete from bronze.bronze_transactions where ctid = (select max(ctid)"
                " from bronze.bronze_transactions where raw_id = 3)"
            )
