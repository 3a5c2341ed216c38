"""Silver on a real PostgreSQL 15 when records arrive in the orders real producers send them.

One database goes through five stages; each lands something, runs `dbt build` of bronze and
silver (models and every test, the reconciliation included) and keeps what silver holds:
  1. early       — sales for product PNEW (not in the catalog yet), a sale of P2 whose only
                   version names PNEW too, and a sale dated "today" in the easternmost time zone
                   judged with the stores' day in the westernmost one (future there)
  2. catalog     — PNEW lands; the same sale dated today is judged in the easternmost zone
  3. correction  — a newer version of a once-rejected sale, and an older one of another
  4. nothing new — a run with no new data changes no fate
  5. refresh     — `--full-refresh` of the same data reproduces what the increments built
Before the fate model, stage 2 left the sale in validated *and* rejected and the run failed on
the reconciliation test, every hour, until a full refresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests import dbt_support as dbt
from tests.pgcluster import PostgresCluster, temporary_database

pytestmark = pytest.mark.integration

# UTC+14 and UTC-11: the same instant is always a later date in the first zone than in the second.
EAST, WEST = "Pacific/Kiritimati", "Pacific/Pago_Pago"
TODAY_EAST = datetime.now(ZoneInfo(EAST)).date().isoformat()
_BUILD = ["build", "--select", "tag:bronze tag:silver", "--indirect-selection", "buildable"]

NEW_PRODUCT = {
    "product_id": "PNEW",
    "product_name": "new cola",
    "brand": "acme",
    "category": "drinks",
    "unit_price": "20.00",
    "is_active": True,
    "updated_at": "2024-03-01T00:00:00Z",
}


def _sale(transaction_id: str, **fields: object) -> dict[str, object]:
    record: dict[str, object] = {
        "transaction_id": transaction_id,
        "transaction_date": "2024-03-04",
        "store_id": "S1",
        "product_id": "PNEW",
        "basket_id": f"B-{transaction_id}",
        "category": "Beverages",
        "quantity": 2,
        "unit_price": "20.00",
        "amount": "40.00",
        "payment_method": "cash",
        "status": "completed",
    }
    record.update(fields)
    return record


EARLY = [
    _sale("OK-1", product_id="P2", unit_price="18.50", amount=37),
    _sale("EARLY-1"),
    _sale("EARLY-2", updated_at="2024-03-04T10:00:00Z"),
    _sale("TODAY", transaction_date=TODAY_EAST, product_id="P2", unit_price="18.50", amount=37),
    # never valid: a defect of its own besides the missing product, so it stays rejected
    _sale("EARLY-BAD", payment_method="bitcoin"),
]
CORRECTIONS = [
    # newer than the version validated in stage 2: replaces it
    _sale("EARLY-1", quantity=1, amount="20.00", updated_at="2024-03-05T00:00:00Z"),
    # older than the version validated in stage 2: superseded on arrival
    _sale("EARLY-2", quantity=3, amount="60.00", updated_at="2024-03-04T09:00:00Z"),
]


@dataclass
class Stage:
    returncode: int = 0
    failed_tests: list[str] = field(default_factory=list)
    validated: dict[str, tuple[Any, ...]] = field(default_factory=dict)  # id -> raw_id, amount
    rejected: dict[int, tuple[Any, ...]] = field(default_factory=dict)  # raw_id -> id, reasons


def _run(env: dict[str, str], target: Path, *extra: str) -> Stage:
    completed = dbt.run_dbt([*_BUILD, *extra], env, target)
    stage = Stage(returncode=completed.returncode)
    stage.failed_tests = [
        uid
        for uid, result in dbt.run_results(target).items()
        if result["status"] not in ("pass", "success", "warn")
    ]
    with dbt.connect(env) as conn:
        stage.validated = {
            row[0]: row[1:]
            for row in conn.execute(
                "select transaction_id, raw_id, amount::text"
                " from silver.silver_validated_transactions"
            )
        }
        stage.rejected = {
            row[0]: row[1:]
            for row in conn.execute(
                "select raw_id, transaction_id, rejection_reasons"
                " from silver.silver_rejected_transactions"
            )
        }
    return stage


def _vars(zone: str) -> tuple[str, str]:
    return "--vars", f'{{"business_timezone": "{zone}"}}'


@dataclass
class Life:
    early: Stage
    catalog: Stage
    correction: Stage
    nothing_new: Stage
    refresh: Stage
    raw_ids: dict[str, list[int]]  # transaction_id -> raw_ids in landing order


@pytest.fixture(scope="module")
def life(pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Life]:
    target = tmp_path_factory.mktemp("dbt-arrival-target")
    with temporary_database(pg_cluster, "arrival") as env:
        with dbt.connect(env) as conn:
            dbt.land(conn, "products", dbt.PRODUCTS, batch_id="products-1")
            dbt.land(conn, "transactions", EARLY, batch_id="early")
        early = _run(env, target, *_vars(WEST))
        with dbt.connect(env) as conn:
            dbt.land(conn, "products", [NEW_PRODUCT], batch_id="products-2")
        catalog = _run(env, target, *_vars(EAST))
        with dbt.connect(env) as conn:
            dbt.land(conn, "transactions", CORRECTIONS, batch_id="corrections")
        correction = _run(env, target, *_vars(EAST))
        nothing_new = _run(env, target, *_vars(EAST))
        refresh = _run(env, target, "--full-refresh", *_vars(EAST))
        with dbt.connect(env) as conn:
            raw_ids: dict[str, list[int]] = {}
            for transaction_id, raw_id in conn.execute(
                "select payload->>'transaction_id', raw_id from raw.transactions order by raw_id"
            ):
                raw_ids.setdefault(transaction_id, []).append(raw_id)
        yield Life(early, catalog, correction, nothing_new, refresh, raw_ids)


def test_a_sale_before_its_product_is_rejected_for_that_reason(life: Life) -> None:
    assert life.early.returncode == 0, life.early.failed_tests
    reasons = {tid: reasons for tid, reasons in life.early.rejected.values()}
    assert reasons == {
        "EARLY-1": ["unknown_product"],
        "EARLY-2": ["unknown_product"],
        "TODAY": ["future_date"],
        "EARLY-BAD": ["invalid_enum", "unknown_product"],
    }
    assert set(life.early.validated) == {"OK-1"}


def test_the_first_run_after_it_becomes_valid_moves_it_out_of_rejected(life: Life) -> None:
    assert life.catalog.returncode == 0, life.catalog.failed_tests
    assert set(life.catalog.validated) == {"OK-1", "EARLY-1", "EARLY-2", "TODAY"}
    # EARLY-BAD stays rejected, for the reason that still holds only
    assert list(life.catalog.rejected.values()) == [("EARLY-BAD", ["invalid_enum"])]


def test_a_correction_supersedes_the_once_rejected_version_either_way(life: Life) -> None:
    assert life.correction.returncode == 0, life.correction.failed_tests
    first, newer = life.raw_ids["EARLY-1"]
    second, older = life.raw_ids["EARLY-2"]
    assert life.correction.validated["EARLY-1"] == (newer, "20.00")
    assert life.correction.validated["EARLY-2"] == (second, "40.00")
    assert first not in life.correction.rejected and older not in life.correction.rejected


def test_a_run_with_nothing_new_changes_nothing(life: Life) -> None:
    assert life.nothing_new.returncode == 0, life.nothing_new.failed_tests
    assert life.nothing_new.validated == life.correction.validated
    assert life.nothing_new.rejected == life.correction.rejected


def test_a_full_refresh_reproduces_the_increments(life: Life) -> None:
    assert life.refresh.returncode == 0, life.refresh.failed_tests
    assert life.refresh.validated == life.correction.validated
    assert life.refresh.rejected == life.correction.rejected
