"""The hourly silver job's data tests read the batch; every other run reads whole tables.

On real PostgreSQL 15 with the 30k-transaction sample dataset, through `workbench run` (the
runtime, the layer's selector) and the dbt CLI:
- a test reads the rows written since it last passed: a defect in an old row is outside the
  hourly job's batch and fails the same test at full scope (`--vars test_scope=full`,
  maintenance); rows a run wrote and never tested (it stopped before its tests) are in the next
  run's batch, a failing test keeps its batch until the rows are fixed;
- the batch reconciliation finds a version lost from the batch, and a full-scope one finds an
  old one it cannot;
- during the hourly job's tests PostgreSQL starts no sequential scan of bronze or of the big
  silver tables (its own statistics, pg_stat_user_tables), while full-scope tests do.

How dbt makes this possible (dbt-core v1.11.14, the line of the installed 1.11.16): every
generic test reads its model through `get_where_subquery(...)` (core/dbt/parser/
generic_test_builders.py:348), looked up by name in the test's namespace, so the root project's
macro replaces the global one (core/dbt/context/providers.py:2207); the macros it calls are
resolved recursively (core/dbt/context/macro_resolver.py:172). The scope is read from
`invocation_args_dict` (providers.py:1155), which `dbt retry` rebuilds from the failed run's
own arguments (core/dbt/task/retry.py:114-117), so a resumed hourly run keeps testing its batch.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_support import land, run_dbt, run_results
from tests.pgcluster import PostgresCluster
from tests.reliability.support import (
    Database,
    create_database,
    drop_database,
    subprocess_env,
    workbench,
    workbench_env,
)
from workbench.params import TEST_SCOPES

pytestmark = pytest.mark.integration

MODELS_ONLY = ("--exclude", "resource_type:test resource_type:unit_test")
# The validated category must be a row of the seed accepted_categories.
CATEGORY_TEST = (
    "test.scout_retail.relationships_silver_validated_transactions_category__category__"
    "ref_accepted_categories_"
)
RECONCILIATION = "test.scout_retail.reconciliation_transactions"
# bronze and the silver tables that grow with it; the catalog and the seeds are small by nature
BIG_TABLES = (
    ("raw", "transactions"),
    ("bronze", "bronze_transactions"),
    ("silver", "silver_transaction_versions"),
    ("silver", "silver_validated_transactions"),
)


@pytest.fixture(scope="module")
def silver(
    pg_cluster: PostgresCluster,
    landed_template: Database,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Database, Path]]:
    """Every layer built once, then one hourly silver job: the next one has a baseline."""
    db = create_database(pg_cluster, template=landed_template.name)
    workdir = tmp_path_factory.mktemp("batch-tests")
    try:
        with workbench_env(db, workdir):
            assert workbench("run", "--layer", "all", *MODELS_ONLY) == 0
            assert workbench("run", "--layer", "silver") == 0
        yield db, workdir
    finally:
        drop_database(pg_cluster, db)


def _land_new_sales(db: Database, workdir: Path, tag: str, count: int = 50) -> list[str]:
    """`count` new transactions (copies of valid ones under new ids) through raw and bronze."""
    payloads = db.rows(
        "select b.payload from bronze.bronze_transactions b"
        " join silver.silver_validated_transactions v on v.raw_id = b.raw_id"
        " order by b.raw_id limit %s",
        (count,),
    )
    records = []
    for number, (payload,) in enumerate(payloads):
        record = dict(payload)
        record["transaction_id"] = f"{tag}-{number}"
        records.append(record)
    with db.connect() as conn:
        land(conn, "transactions", records, batch_id=tag)
    with workbench_env(db, workdir):
        assert workbench("run", "--layer", "bronze", *MODELS_ONLY) == 0
    return [str(record["transaction_id"]) for record in records]


def _hourly(db: Database, workdir: Path, *extra: str) -> tuple[int, dict[str, dict[str, Any]]]:
    with workbench_env(db, workdir):
        code = workbench("run", "--layer", "silver", *extra)
    return code, run_results(workdir / "target")


def _failures(results: dict[str, dict[str, Any]], prefix: str) -> int:
    (found,) = [r for uid, r in results.items() if uid.startswith(prefix)]
    return int(found["failures"])


def _corrupt_category(db: Database, transaction_id: str | None = None) -> str:
    """A validated row (the oldest unless named) with a category outside the set (no
    constraint forbids it; the relationships test to the seed does)."""
    found = db.scalar(
        "update silver.silver_validated_transactions set category = 'Not A Category'"
        " where transaction_id = coalesce(%s, (select transaction_id"
        " from silver.silver_validated_transactions order by judged_at, transaction_id limit 1))"
        " returning transaction_id",
        (transaction_id,),
    )
    return str(found)


def _repair_category(db: Database, transaction_id: str) -> None:
    with db.connect() as conn:
        conn.execute(
            "update silver.silver_validated_transactions v set category = t.category"
            " from silver.silver_transaction_versions t"
            " where t.raw_id = v.raw_id and v.transaction_id = %s",
            (transaction_id,),
        )


def _models_only(db: Database, workdir: Path) -> None:
    """A silver run that writes and then stops before its tests (like a pod killed there)."""
    with workbench_env(db, workdir):
        assert workbench("run", "--layer", "silver", *MODELS_ONLY) == 0


def test_an_old_defect_is_outside_the_batch_and_inside_the_full_checks(
    silver: tuple[Database, Path],
) -> None:
    db, workdir = silver
    bad = _corrupt_category(db)
    new = _land_new_sales(db, workdir, "BT1")

    code, results = _hourly(db, workdir)
    assert code == 0  # the old row passed its tests long ago: not in the batch
    assert _failures(results, CATEGORY_TEST) == 0
    assert results[RECONCILIATION]["status"] == "pass"
    assert db.scalar(
        "select count(*) from silver.silver_validated_transactions where transaction_id = any(%s)",
        (new,),
    ) == len(new)

    code, results = _hourly(db, workdir, "--vars", json.dumps({"test_scope": "full"}))
    assert code == 1
    assert _failures(results, CATEGORY_TEST) == 1
    stored = db.rows(
        "select failing_row from test_failures.silver_validated_transactions"
        " where test_name like 'relationships%%'"
    )
    assert [row["from_field"] for (row,) in stored] == ["Not A Category"]

    with workbench_env(db, workdir):  # the daily maintenance tests everything
        assert workbench("run", "--layer", "maintenance") == 1
    assert _failures(run_results(workdir / "target"), CATEGORY_TEST) == 1
    _repair_category(db, bad)


def test_rows_no_test_has_passed_stay_in_the_batch_until_they_pass(
    silver: tuple[Database, Path],
) -> None:
    db, workdir = silver
    untested = _land_new_sales(db, workdir, "BT2")
    _models_only(db, workdir)
    _corrupt_category(db, untested[0])
    _land_new_sales(db, workdir, "BT3")  # and a newer batch lands before the next run

    # the next hourly run tests what the stopped run wrote as well as its own rows
    code, results = _hourly(db, workdir)
    assert code == 1
    assert _failures(results, CATEGORY_TEST) == 1
    # a failing test keeps its batch: the run after it (nothing new) is red again
    code, results = _hourly(db, workdir)
    assert code == 1
    assert _failures(results, CATEGORY_TEST) == 1

    _repair_category(db, untested[0])
    code, results = _hourly(db, workdir)
    assert code == 0
    # passed: those rows left the batch, so the same defect again is the full checks' business
    _corrupt_category(db, untested[0])
    _land_new_sales(db, workdir, "BT4")
    code, results = _hourly(db, workdir)
    assert code == 0
    assert _failures(results, CATEGORY_TEST) == 0
    _repair_category(db, untested[0])


def _run_reconciliation(db: Database, workdir: Path, scope: str) -> tuple[int, str, Path]:
    target = workdir / f"reconcile-{scope}"
    completed = run_dbt(
        [
            "test",
            "--select",
            "reconciliation_transactions",
            "--vars",
            json.dumps({"test_scope": scope}),
        ],
        subprocess_env(db, workdir),
        target,
    )
    return completed.returncode, completed.stdout, target


def _reconciliation(db: Database, workdir: Path, scope: str) -> dict[str, Any]:
    code, out, target = _run_reconciliation(db, workdir, scope)
    assert code in (0, 1), out[-3000:]
    return run_results(target)[RECONCILIATION]


@contextlib.contextmanager
def _version_lost(db: Database, raw_id: int) -> Iterator[None]:
    """silver_transaction_versions without the row of `raw_id` (put back afterwards)."""
    with db.connect() as conn:
        conn.execute(
            "create temporary table kept as"
            " select * from silver.silver_transaction_versions where raw_id = %s",
            (raw_id,),
        )
        conn.execute("delete from silver.silver_transaction_versions where raw_id = %s", (raw_id,))
        try:
            yield
        finally:
            conn.execute("insert into silver.silver_transaction_versions select * from kept")


def test_batch_reconciliation_finds_a_version_lost_from_the_batch(
    silver: tuple[Database, Path],
) -> None:
    db, workdir = silver
    _land_new_sales(db, workdir, "BT5")
    _models_only(db, workdir)  # written, not yet reconciled
    new_raw_id = db.scalar(
        "select max(raw_id) from silver.silver_transaction_versions"
        " where transaction_id like 'BT5-%%' and fate = 'winner'"
    )
    assert new_raw_id is not None
    with _version_lost(db, new_raw_id):
        # a version of the batch without its fate, its validated row without a winner
        batch = _reconciliation(db, workdir, "batch")
    assert batch["status"] == "fail"
    assert batch["failures"] == 1
    assert _reconciliation(db, workdir, "batch")["status"] == "pass"

    old_raw_id = db.scalar(
        "select min(raw_id) from silver.silver_transaction_versions where fate = 'superseded'"
    )
    assert old_raw_id is not None
    with _version_lost(db, old_raw_id):
        # an old version lost out of band: only the full check can see it
        assert _reconciliation(db, workdir, "batch")["status"] == "pass"
        assert _reconciliation(db, workdir, "full")["status"] == "fail"
    assert _reconciliation(db, workdir, "full")["status"] == "pass"

    # dbt accepts exactly the scopes the runtime lets through --vars
    for scope in TEST_SCOPES:
        assert _reconciliation(db, workdir, scope)["status"] == "pass", scope
    # anything else stops dbt before it runs a node (exit 2: the project does not compile)
    code, out, _ = _run_reconciliation(db, workdir, "some")
    assert code == 2
    assert "var test_scope must be 'auto', 'batch' or 'full'; got 'some'" in out


def _seq_scans(db: Database) -> dict[str, int]:
    return {
        f"{schema}.{table}": int(count)
        for schema, table, count in db.rows(
            "select schemaname, relname, seq_scan from pg_stat_user_tables"
            " where (schemaname, relname) in (" + ", ".join("(%s, %s)" for _ in BIG_TABLES) + ")",
            tuple(part for pair in BIG_TABLES for part in pair),
        )
    }


@pytest.mark.parametrize(("scope", "scans_whole_tables"), [("auto", False), ("full", True)])
def test_hourly_tests_never_scan_bronze_or_big_silver_tables(
    silver: tuple[Database, Path], scope: str, scans_whole_tables: bool
) -> None:
    db, workdir = silver
    # right after a full refresh: new tables, statistics only if the rebuild took them
    with workbench_env(db, workdir):
        assert workbench("run", "--layer", "all", "--full-refresh", "true") == 0
    _land_new_sales(db, workdir, f"BT6{scope}")
    env = subprocess_env(db, workdir)
    target = workdir / f"scan-{scope}"
    built = run_dbt(["run", "--selector", "silver"], env, target)
    assert built.returncode == 0, built.stdout[-3000:]
    before = _seq_scans(db)
    tested = run_dbt(
        ["test", "--selector", "silver", "--vars", json.dumps({"test_scope": scope})], env, target
    )
    assert tested.returncode == 0, tested.stdout[-3000:]
    # the dbt process has exited: its backends flushed their statistics
    after = _seq_scans(db)
    assert set(before) == {f"{s}.{t}" for s, t in BIG_TABLES}
    scanned = {name for name in before if after[name] > before[name]}
    if scans_whole_tables:
        assert scanned, "full-scope tests read whole tables"
    else:
        assert scanned == set(), f"the hourly job's tests scanned {sorted(scanned)} in full"


RECENCY = "test.scout_retail.recency_silver_validated_transactions_validated_at__1_day"


def test_recency_reads_the_whole_table_when_no_new_row_is_valid(
    silver: tuple[Database, Path],
) -> None:
    """An hourly batch with only rejected rows still has a newest validated row: recency passes.

    Reading only the batch, the test saw no validated row, `max(validated_at)` was null and it
    warned with `latest_value` null right after a complete build (issue 21)."""
    db, workdir = silver
    payloads = db.rows(
        "select b.payload from bronze.bronze_transactions b"
        " join silver.silver_validated_transactions v on v.raw_id = b.raw_id"
        " order by b.raw_id limit 5"
    )
    invalid = [
        {**dict(payload), "transaction_id": f"bad-qty-{n}", "quantity": "many"}
        for n, (payload,) in enumerate(payloads)
    ]
    with db.connect() as conn:
        land(conn, "transactions", invalid, batch_id="bad-qty")
    with workbench_env(db, workdir):
        assert workbench("run", "--layer", "bronze", *MODELS_ONLY) == 0
    code, results = _hourly(db, workdir)
    assert code == 0
    assert db.scalar(
        "select count(*) from silver.silver_rejected_transactions"
        " where payload->>'transaction_id' like 'bad-qty-%%'"
    ) == len(invalid)
    (recency,) = [r for uid, r in results.items() if uid.startswith(RECENCY)]
    assert recency["status"] == "pass", recency
