"""The dbt project on a real PostgreSQL 15, with handcrafted raw records (tests/dbt_support.py).

One database per module goes through the life of a deployment, and each stage keeps a snapshot
of what it produced, so the tests below read data and do not depend on their order:
  1. first build   — products + batch 1 landed, `dbt build` (selector all)
  2. increment     — batch 2 landed, `dbt build --selector bronze`, then `--selector silver`
  3. full refresh  — `dbt build --full-refresh` must reproduce what the increments built
  4. tampering     — a rejected version's fate deleted: the reconciliation test must fail
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import dbt_support as dbt
from tests.pgcluster import PostgresCluster, temporary_database
from workbench.config import PROJECT_ROOT

pytestmark = pytest.mark.integration

# Processing timestamps differ between runs by design; everything else must not.
_TRANSACTION_COLUMNS = (
    "transaction_id, transaction_date, store_id, product_id, basket_id, category, quantity,"
    " unit_price, amount, payment_method, status, customer_id, updated_at, raw_id,"
    " version_count, latest_version_raw_id, ingested_at"
)


@dataclass
class Stage:
    """What one stage of the module's database produced."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    rows_affected: dict[str, dict[str, Any]] = field(default_factory=dict)
    validated: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _query(env: dict[str, str], sql: str) -> list[tuple[Any, ...]]:
    with dbt.connect(env) as conn:
        return conn.execute(sql.encode()).fetchall()


def _build(args: list[str], env: dict[str, str], target: Path) -> dict[str, dict[str, Any]]:
    completed = dbt.run_dbt(args, env, target)
    assert completed.returncode == 0, completed.stdout[-4000:]
    return dbt.run_results(target)


def _snapshot(env: dict[str, str], stage: Stage) -> None:
    with dbt.connect(env) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        cur.execute(
            f"select {_TRANSACTION_COLUMNS} from silver.silver_validated_transactions".encode()
        )
        stage.validated = {row["transaction_id"]: row for row in cur.fetchall()}
        rejected = conn.execute(
            "select coalesce(transaction_id, '#' || raw_id), rejection_reasons"
            " from silver.silver_rejected_transactions"
        ).fetchall()
        stage.rejected = {key: reasons for key, reasons in rejected}
        for name, sql in {
            "bronze": "select count(*) from bronze.bronze_transactions",
            "validated": "select count(*) from silver.silver_validated_transactions",
            "rejected": "select count(*) from silver.silver_rejected_transactions",
            "superseded": "select sum(version_count - 1) from silver.silver_validated_transactions",
        }.items():
            row = conn.execute(sql.encode()).fetchone()
            assert row is not None
            stage.counts[name] = int(row[0])


@dataclass
class Lifecycle:
    env: dict[str, str]
    target: Path
    first: Stage = field(default_factory=Stage)
    increment: Stage = field(default_factory=Stage)
    full_refresh: Stage = field(default_factory=Stage)
    tampered: Stage = field(default_factory=Stage)


@pytest.fixture(scope="module")
def database(pg_cluster: PostgresCluster) -> Iterator[dict[str, str]]:
    with temporary_database(pg_cluster, "dbt") as env:
        yield env


@pytest.fixture(scope="module")
def lifecycle(database: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Lifecycle:
    life = Lifecycle(database, tmp_path_factory.mktemp("dbt-target"))
    env, target = life.env, life.target

    with dbt.connect(env) as conn:
        dbt.land(conn, "products", dbt.PRODUCTS, batch_id="products-1")
        dbt.land(conn, "transactions", dbt.TRANSACTIONS_BATCH_1, batch_id="batch-1")
    life.first.results = _build(["build"], env, target)
    _snapshot(env, life.first)
    life.first.extra["trends"] = _query(
        env,
        "select category, week_start, transactions, revenue"
        " from gold.gold_category_trends order by category, week_start",
    )
    life.first.extra["indexes"] = _query(
        env,
        "select tablename, indexdef from pg_indexes"
        " where schemaname in ('bronze', 'silver', 'gold')",
    )
    life.first.extra["schemas"] = {
        row[0] for row in _query(env, "select nspname from pg_namespace")
    }
    life.first.extra["products"] = {
        row[0]: row[1:]
        for row in _query(
            env,
            "select product_id, product_name, brand, category, unit_price, is_active,"
            " version_count from silver.silver_products",
        )
    }

    with dbt.connect(env) as conn:
        dbt.land(conn, "transactions", dbt.TRANSACTIONS_BATCH_2, batch_id="batch-2")
    for layer in ("bronze", "silver"):
        life.increment.results.update(_build(["build", "--selector", layer], env, target))
        life.increment.rows_affected[layer] = dbt.rows_affected(target)
    _snapshot(env, life.increment)
    life.increment.extra["platinum_rows"] = _query(
        env, "select count(*) from platinum.platinum_transaction_embeddings"
    )[0][0]

    life.full_refresh.results = _build(["build", "--full-refresh"], env, target)
    _snapshot(env, life.full_refresh)

    with dbt.connect(env) as conn:
        conn.execute(
            "delete from silver.silver_transaction_versions"
            " where raw_id = (select min(raw_id) from silver.silver_rejected_transactions)"
        )
    tampered = dbt.run_dbt(["test", "--select", "reconciliation_transactions"], env, target)
    life.tampered.extra["returncode"] = tampered.returncode
    life.tampered.results = dbt.run_results(target)
    return life


def _statuses(results: dict[str, dict[str, Any]], prefix: str) -> dict[str, str]:
    return {uid: r["status"] for uid, r in results.items() if uid.startswith(prefix)}


def test_first_build_passes_every_test_and_unit_test(lifecycle: Lifecycle) -> None:
    results = lifecycle.first.results
    tests = _statuses(results, "test.")
    unit_tests = _statuses(results, "unit_test.")
    models = _statuses(results, "model.")
    # every model of the project, each built once
    project_models = {path.stem for path in (PROJECT_ROOT / "dbt" / "models").rglob("*.sql")}
    assert {uid.split(".")[2] for uid in models} == project_models
    assert set(models.values()) == {"success"}
    assert len(tests) >= 75
    assert set(tests.values()) == {"pass"}, {k: v for k, v in tests.items() if v != "pass"}
    assert len(unit_tests) == 10
    assert set(unit_tests.values()) == {"pass"}


def test_layers_live_in_schemas_named_exactly(lifecycle: Lifecycle) -> None:
    expected = {"bronze", "silver", "gold", "platinum", "test_failures"}
    assert expected <= lifecycle.first.extra["schemas"]


def test_every_rejected_record_carries_all_its_reasons_in_contract_order(
    lifecycle: Lifecycle,
) -> None:
    rejected = lifecycle.first.rejected
    for transaction_id, reasons in dbt.EXPECTED_REASONS.items():
        assert rejected[transaction_id] == reasons, transaction_id
    by_raw_id = {key: reasons for key, reasons in rejected.items() if key.startswith("#")}
    # no id at all, an array payload, a string payload
    assert sorted(by_raw_id.values()) == [
        ["invalid_type"],
        ["invalid_type"],
        ["missing_transaction_id"],
    ]
    assert len(rejected) == len(dbt.EXPECTED_REASONS) + 3


def test_messy_values_are_normalised_not_rejected(lifecycle: Lifecycle) -> None:
    v2 = lifecycle.first.validated["V2"]
    assert (v2["category"], v2["payment_method"], v2["status"]) == (
        "Beverages",
        "gcash",
        "completed",
    )
    assert (v2["quantity"], str(v2["unit_price"]), str(v2["amount"])) == (3, "27.50", "82.50")
    assert lifecycle.first.validated["V8"]["category"] == "Personal Care"
    assert lifecycle.first.validated["V3"]["category"] == "Instant Noodles"


def test_dedup_winner_is_latest_valid_version(lifecycle: Lifecycle) -> None:
    validated = lifecycle.first.validated
    raw_ids = {key: row["raw_id"] for key, row in validated.items()}
    # D2: the version with updated_at (landed first) beats the later one without it
    assert raw_ids["D2"] == 9
    assert validated["D2"]["version_count"] == 2
    # D1: the greater updated_at wins
    assert raw_ids["D1"] == 12
    assert str(validated["D1"]["amount"]) == "18.50"
    # D3: the newest version is invalid (rejected), the valid older one stays
    assert raw_ids["D3"] == 13
    assert validated["D3"]["version_count"] == 1


def test_reconciliation_is_exact(lifecycle: Lifecycle) -> None:
    for stage in (lifecycle.first, lifecycle.increment, lifecycle.full_refresh):
        counts = stage.counts
        assert counts["bronze"] == counts["validated"] + counts["rejected"] + counts["superseded"]
    assert lifecycle.first.counts == {
        "bronze": len(dbt.TRANSACTIONS_BATCH_1),
        "validated": 11,
        "rejected": 15,
        "superseded": 2,
    }


def test_weeks_are_zero_filled_for_every_category(lifecycle: Lifecycle) -> None:
    trends = lifecycle.first.extra["trends"]
    weeks = sorted({row[1] for row in trends})
    categories = {row[0] for row in trends}
    assert categories == {"Beverages", "Instant Noodles", "Personal Care", "Snacks"}
    assert len(trends) == len(weeks) * len(categories)
    assert all((b - a).days == 7 for a, b in itertools.pairwise(weeks))
    assert all(week.isoweekday() == 1 for week in weeks)
    # Instant Noodles sold only in the week of 2024-01-01; every other week is there with zeros
    noodles = [row for row in trends if row[0] == "Instant Noodles"]
    assert [(str(r[1]), r[2]) for r in noodles if r[2] > 0] == [("2024-01-01", 1)]
    assert all(r[3] == 0 for r in noodles if r[2] == 0)


def test_silver_products_deduplicated_and_standardised(lifecycle: Lifecycle) -> None:
    products = lifecycle.first.extra["products"]
    assert set(products) == {"P1", "P2", "P3", "P4", "P6"}
    name, brand, category, price, active, versions = products["P1"]
    assert (name, brand, category, str(price), active, versions) == (
        "Coca Cola Zero",
        "Coca-Cola",
        "Beverages",
        "27.50",
        True,
        2,
    )
    # unreadable price and flag become null; an unknown category maps to none
    assert products["P6"][2:5] == (None, None, None)


def test_post_hook_indexes_exist(lifecycle: Lifecycle) -> None:
    indexed = {
        (table, indexdef.split(" USING ")[1])
        for table, indexdef in lifecycle.first.extra["indexes"]
    }
    # free text that producers control gets hash indexes: no btree size limit to trip over
    assert ("silver_transaction_versions", "hash (transaction_id)") in indexed
    assert ("silver_products", "hash (brand)") in indexed
    for expected in [
        ("silver_validated_transactions", "(transaction_date)"),
        ("silver_validated_transactions", "(product_id)"),
        ("silver_validated_transactions", "(category, transaction_date)"),
        ("silver_products", "(category)"),
        ("gold_monthly_summary", "(month_start)"),
        ("gold_category_trends", "(week_start)"),
        ("bronze_transactions", "(raw_id)"),
    ]:
        assert (expected[0], "btree " + expected[1]) in indexed


def test_incremental_run_processes_only_the_new_rows(lifecycle: Lifecycle) -> None:
    affected = lifecycle.increment.rows_affected
    assert affected["bronze"]["bronze_transactions"] == len(dbt.TRANSACTIONS_BATCH_2)
    assert affected["bronze"]["bronze_products"] == 0
    # the 5 new versions and the 3 older ones of D1 and V1, re-ranked with them (D1's count
    # grows, V1's winner is superseded); batch 1's pending rejections (R-future,
    # R-unknown-product, R-multi) are judged again, but their fate holds: nothing written
    assert affected["silver"]["silver_transaction_versions"] == 5 + 3
    # N1, N2 new; D1 and V1 re-ranked with their older versions
    assert affected["silver"]["silver_validated_transactions"] == 4
    assert affected["silver"]["silver_products"] == 0
    tests = _statuses(lifecycle.increment.results, "test.")
    assert set(tests.values()) == {"pass"}
    # the bronze run does not run the reconciliation (it reads silver, not yet updated)
    assert any("reconciliation" in uid for uid in tests)


def test_winner_is_right_across_batches(lifecycle: Lifecycle) -> None:
    validated = lifecycle.increment.validated
    # an older correction of D1 arrived later: D1 keeps its winner, now with 3 versions
    assert validated["D1"]["raw_id"] == 12
    assert validated["D1"]["version_count"] == 3
    # a newer correction of V1 replaces it
    assert str(validated["V1"]["amount"]) == "18.50"
    assert validated["V1"]["raw_id"] > len(dbt.TRANSACTIONS_BATCH_1)
    assert {"N1", "N2"} <= set(validated)
    assert lifecycle.increment.rejected["R-batch-2"] == ["non_positive_amount"]


def test_silver_run_keeps_platinum_views(lifecycle: Lifecycle) -> None:
    # the views survived the silver run (nothing dropped them) and already show the new rows
    assert lifecycle.increment.extra["platinum_rows"] == len(lifecycle.increment.validated)


def test_full_refresh_reproduces_the_incremental_result(lifecycle: Lifecycle) -> None:
    assert lifecycle.full_refresh.validated == lifecycle.increment.validated
    assert lifecycle.full_refresh.rejected == lifecycle.increment.rejected
    assert lifecycle.full_refresh.counts == lifecycle.increment.counts


def test_reconciliation_test_catches_a_lost_row(lifecycle: Lifecycle) -> None:
    assert lifecycle.tampered.extra["returncode"] == 1
    statuses = _statuses(lifecycle.tampered.results, "test.")
    assert list(statuses.values()) == ["fail"]
