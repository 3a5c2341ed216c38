"""docs/data.md "Which version wins, categories, refunds", on a real PostgreSQL, stage by stage.

One sale of product P1 (the catalog files it under Beverages) is sent filed under Snacks, then an
invalid correction of it, then a retry of the first record, then its refund; after each landing
`dbt build` runs bronze → gold and the test reads what silver and gold hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import dbt_support as dbt
from tests.pgcluster import PostgresCluster, temporary_database

pytestmark = pytest.mark.integration

BUILD = ["build", "--select", "tag:bronze tag:silver tag:gold", "--indirect-selection", "buildable"]
SALE = {
    "transaction_id": "DOC-1",
    "transaction_date": "2024-03-04",
    "store_id": "S1",
    "product_id": "P1",
    "basket_id": "B-DOC-1",
    "category": "chips",  # an alias of Snacks; the catalog has P1 under Beverages
    "quantity": 2,
    "unit_price": "25.00",
    "amount": "50.00",
    "payment_method": "cash",
    "status": "completed",
    "updated_at": "2024-03-04T10:00:00Z",
}
# a later version with a status the contract does not know
INVALID_CORRECTION = {**SALE, "status": "returned", "updated_at": "2024-03-05T10:00:00Z"}
REFUND = {**SALE, "status": "refunded", "updated_at": "2024-03-06T10:00:00Z"}


def _state(env: dict[str, str]) -> dict[str, Any]:
    with dbt.connect(env) as conn:
        validated = conn.execute(
            "select status, category, raw_id from silver.silver_validated_transactions"
            " where transaction_id = 'DOC-1'"
        ).fetchone()
        rejected = conn.execute(
            "select rejection_reasons from silver.silver_rejected_transactions"
            " where transaction_id = 'DOC-1'"
        ).fetchall()
        gold = conn.execute(
            "select category, transactions, revenue::text from gold.gold_monthly_summary"
            " where month_start = '2024-03-01' order by category"
        ).fetchall()
    return {"validated": validated, "rejected": rejected, "gold": gold}


@pytest.fixture(scope="module")
def stages(
    pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, dict[str, Any]]]:
    target: Path = tmp_path_factory.mktemp("dbt-versions-target")
    found: dict[str, dict[str, Any]] = {}
    with temporary_database(pg_cluster, "versions") as env:
        with dbt.connect(env) as conn:
            dbt.land(conn, "products", dbt.PRODUCTS, batch_id="products")
        for name, record in (
            ("sale", SALE),
            ("invalid", INVALID_CORRECTION),
            ("retry", SALE),
            ("refund", REFUND),
        ):
            with dbt.connect(env) as conn:
                dbt.land(conn, "transactions", [record], batch_id=name)
            completed = dbt.run_dbt(BUILD, env, target)
            assert completed.returncode == 0, completed.stdout[-3000:]
            found[name] = _state(env)
        yield found


def test_a_sale_keeps_the_category_of_its_own_record(stages: dict[str, dict[str, Any]]) -> None:
    status, category, _ = stages["sale"]["validated"]
    assert (status, category) == ("completed", "Snacks")
    assert stages["sale"]["gold"] == [("Snacks", 1, "50.00")]


def test_an_invalid_correction_leaves_the_previous_valid_version_in_gold(
    stages: dict[str, dict[str, Any]],
) -> None:
    assert stages["invalid"]["validated"] == stages["sale"]["validated"]
    assert stages["invalid"]["rejected"] == [(["invalid_enum"],)]
    assert stages["invalid"]["gold"] == [("Snacks", 1, "50.00")]


def test_a_retried_record_changes_neither_the_winner_nor_gold(
    stages: dict[str, dict[str, Any]],
) -> None:
    assert stages["retry"]["validated"][:2] == ("completed", "Snacks")
    assert stages["retry"]["gold"] == stages["sale"]["gold"]


def test_a_refund_is_a_later_version_and_leaves_gold_revenue(
    stages: dict[str, dict[str, Any]],
) -> None:
    status, category, _ = stages["refund"]["validated"]
    assert (status, category) == ("refunded", "Snacks")
    assert stages["refund"]["gold"] == []
