"""gold_category_trends on a real PostgreSQL 15 while the newest week is still in progress.

Data lands continuously, so until the data reaches Sunday the last ISO week holds only part of
its sales. One database goes through two stages, each keeping what gold produced:
  1. in progress — six ordinary weeks of Snacks, then one small sale on the Wednesday of week 7
  2. complete    — a second small sale lands on that week's Sunday; silver and gold rebuild
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import dbt_support as dbt
from tests.pgcluster import PostgresCluster, temporary_database

pytestmark = pytest.mark.integration

LAST_WEEK = date(2024, 2, 12)
# Units sold per week (unit price 10.00), Mondays from 2024-01-01: mean 100, stddev 8.94.
ORDINARY_WEEKS = (
    ("2024-01-01", 10),
    ("2024-01-08", 11),
    ("2024-01-15", 9),
    ("2024-01-22", 10),
    ("2024-01-29", 11),
    ("2024-02-05", 9),
)
_BUILD = ["build", "--select", "+gold_category_trends", "--indirect-selection", "cautious"]
_TREND_COLUMNS = (
    "week_start, revenue, rolling_mean, rolling_stddev, history_weeks, z_score,"
    " is_complete_week, is_anomaly"
)

Trends = dict[date, dict[str, Any]]


def _sale(transaction_id: str, day: str, units: int, unit_price: str) -> dict[str, object]:
    return {
        "transaction_id": transaction_id,
        "transaction_date": day,
        "store_id": "S1",
        "product_id": "P2",
        "basket_id": f"B-{transaction_id}",
        "category": "Snacks",
        "quantity": units,
        "unit_price": unit_price,
        "amount": str(Decimal(unit_price) * units),
        "payment_method": "cash",
        "status": "completed",
    }


@dataclass
class Stages:
    in_progress: Trends
    complete: Trends
    unit_tests: dict[str, str]  # unit test name -> status, from the first build


def _build(env: dict[str, str], target: Path) -> dict[str, dict[str, Any]]:
    completed = dbt.run_dbt(_BUILD, env, target)
    assert completed.returncode == 0, completed.stdout[-4000:]
    return dbt.run_results(target)


def _trends(env: dict[str, str]) -> Trends:
    with dbt.connect(env) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        cur.execute(
            f"select {_TREND_COLUMNS} from gold.gold_category_trends"  # fixed column list
            " where category = 'Snacks' order by week_start".encode()
        )
        return {row["week_start"]: row for row in cur.fetchall()}


@pytest.fixture(scope="module")
def stages(
    pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stages]:
    target = tmp_path_factory.mktemp("dbt-gold-target")
    with temporary_database(pg_cluster, "gold") as env:
        ordinary = [
            _sale(f"W{i}", day, units, "10.00") for i, (day, units) in enumerate(ORDINARY_WEEKS)
        ]
        with dbt.connect(env) as conn:
            dbt.land(conn, "products", dbt.PRODUCTS, batch_id="products-1")
            dbt.land(
                conn,
                "transactions",
                [*ordinary, _sale("WED", "2024-02-14", 1, "5.00")],
                batch_id="batch-1",
            )
        results = _build(env, target)
        unit_tests = {
            uid.split(".")[-1]: result["status"]
            for uid, result in results.items()
            if uid.startswith("unit_test.scout_retail.gold_category_trends.")
        }
        in_progress = _trends(env)

        with dbt.connect(env) as conn:
            dbt.land(conn, "transactions", [_sale("SUN", "2024-02-18", 1, "5.00")], batch_id="b-2")
        _build(env, target)
        yield Stages(in_progress, _trends(env), unit_tests)


def test_the_models_unit_tests_pass_on_postgres(stages: Stages) -> None:
    assert stages.unit_tests == {
        "gold_category_trends_zero_fills_missing_weeks": "pass",
        "gold_category_trends_flags_spike_after_enough_history": "pass",
        "gold_category_trends_threshold_is_a_var": "pass",
        "gold_category_trends_does_not_flag_the_week_in_progress": "pass",
        "gold_category_trends_flags_the_same_drop_in_a_complete_week": "pass",
        "gold_category_trends_flags_a_spike_after_a_flat_history": "pass",
    }


def test_the_week_in_progress_is_scored_but_not_flagged(stages: Stages) -> None:
    last = stages.in_progress[LAST_WEEK]
    assert last["revenue"] == Decimal("5.00")
    assert last["z_score"] == Decimal("-10.6213")
    assert (last["is_complete_week"], last["is_anomaly"]) == (False, False)
    earlier = [row for week, row in stages.in_progress.items() if week != LAST_WEEK]
    assert len(earlier) == len(ORDINARY_WEEKS)
    assert all(row["is_complete_week"] and not row["is_anomaly"] for row in earlier)


def test_once_the_data_reaches_sunday_the_drop_is_flagged(stages: Stages) -> None:
    last = stages.complete[LAST_WEEK]
    assert last["revenue"] == Decimal("10.00")
    assert last["z_score"] == Decimal("-10.0623")
    assert (last["is_complete_week"], last["is_anomaly"]) == (True, True)


def test_completing_the_week_leaves_every_rolling_statistic_unchanged(stages: Stages) -> None:
    """The flag depends on completeness; the series and its windows do not."""
    rolling = ("rolling_mean", "rolling_stddev", "history_weeks")
    assert stages.complete.keys() == stages.in_progress.keys()
    for week, before in stages.in_progress.items():
        after = stages.complete[week]
        assert {c: after[c] for c in rolling} == {c: before[c] for c in rolling}, week
        if week != LAST_WEEK:
            assert after == before, week
    assert stages.complete[LAST_WEEK]["rolling_mean"] == Decimal("100.00")
    assert stages.complete[LAST_WEEK]["rolling_stddev"] == Decimal("8.94")
