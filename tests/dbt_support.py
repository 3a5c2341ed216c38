"""Helpers for the dbt project tests: land handcrafted raw records, run dbt, read results.

The records cover every silver rule on purpose; the tests assert on them by transaction_id.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg

from workbench.config import dbt_project_dir
from workbench.ingest.schema import ensure_raw_schema

DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")


def connect(env: Mapping[str, str]) -> psycopg.Connection[Any]:
    return psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        dbname=env["POSTGRES_DB"],
        autocommit=True,
    )


def land(
    conn: psycopg.Connection[Any],
    entity: str,
    records: Sequence[object],
    *,
    batch_id: str,
    source_file: str | None = None,
) -> None:
    """Insert records into raw.<entity> the way `workbench ingest` lands them (one row each)."""
    ensure_raw_schema(conn)
    source_file = source_file or f"/landing/{entity}-{batch_id}.jsonl"
    with conn.cursor() as cur:
        for row_number, record in enumerate(records, start=1):
            text = json.dumps(record)
            cur.execute(
                f"insert into raw.{entity}"  # entity is one of two fixed names
                " (payload, source, source_file, source_row, batch_id, payload_sha256)"
                " values (%s::jsonb, 'jsonl', %s, %s, %s, %s)",
                (
                    text,
                    source_file,
                    row_number,
                    batch_id,
                    hashlib.sha256(text.encode()).hexdigest(),
                ),
            )


def run_dbt(
    args: Sequence[str], env: Mapping[str, str], target_dir: Path
) -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI on the project in dbt/ against the database named in `env`."""
    if not DBT_EXECUTABLE.exists():
        raise RuntimeError(
            f"dbt not found at {DBT_EXECUTABLE}; run `make setup` (uv sync --frozen)"
        )
    project = dbt_project_dir()
    full_env = {
        **os.environ,
        **env,
        "DBT_TARGET_PATH": str(target_dir),
        "DBT_LOG_PATH": str(target_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return subprocess.run(
        [str(DBT_EXECUTABLE), *args, "--project-dir", str(project), "--profiles-dir", str(project)],
        env=full_env,
        capture_output=True,
        text=True,
        check=False,
    )


def run_results(target_dir: Path) -> dict[str, dict[str, Any]]:
    """The last invocation's results keyed by unique_id."""
    data = json.loads((target_dir / "run_results.json").read_text())
    return {r["unique_id"]: r for r in data["results"]}


def rows_affected(target_dir: Path) -> dict[str, Any]:
    return {
        uid.split(".")[-1]: result.get("adapter_response", {}).get("rows_affected")
        for uid, result in run_results(target_dir).items()
        if uid.startswith("model.")
    }


def _line(
    transaction_id: str | None,
    *,
    date: str = "2024-01-08",
    store: str = "S1",
    product: str = "P2",
    basket: str = "B1",
    category: str = "Snacks",
    quantity: object = 2,
    unit_price: object = "18.50",
    amount: object = 37.0,
    payment: str = "cash",
    status: str = "completed",
    updated_at: str | None = None,
    **extra: object,
) -> dict[str, object]:
    record: dict[str, object] = {
        "transaction_date": date,
        "store_id": store,
        "product_id": product,
        "basket_id": basket,
        "category": category,
        "quantity": quantity,
        "unit_price": unit_price,
        "amount": amount,
        "payment_method": payment,
        "status": status,
    }
    if transaction_id is not None:
        record["transaction_id"] = transaction_id
    if updated_at is not None:
        record["updated_at"] = updated_at
    record.update(extra)
    return record


PRODUCTS: list[dict[str, object]] = [
    {
        "product_id": "P1",
        "product_name": "  coca   cola ",
        "brand": "coca-cola",
        "category": "DRINKS",
        "unit_price": "25.00",
        "is_active": "yes",
        "updated_at": "2024-01-01T00:00:00Z",
    },
    {
        "product_id": "P2",
        "product_name": "piattos cheese",
        "brand": "jack n jill",
        "category": " Chips",
        "unit_price": 18.5,
        "is_active": True,
        "updated_at": "2024-01-01T00:00:00Z",
    },
    {
        "product_id": "P3",
        "product_name": "lucky me pancit canton",
        "brand": "monde nissin",
        "category": "noodles",
        "unit_price": "15",
        "is_active": "TRUE",
        "updated_at": "2024-01-01T00:00:00Z",
    },
    {
        "product_id": "P1",
        "product_name": "COCA  COLA   zero",
        "brand": " Coca-Cola ",
        "category": " softdrinks ",
        "unit_price": "27.50",
        "is_active": "1",
        "updated_at": "2024-06-01T08:00:00+08:00",
    },
    {
        "product_id": " P4 ",
        "product_name": "safeguard soap",
        "brand": "P&G",
        "category": "toiletries",
        "unit_price": 45,
        "is_active": "no",
        "updated_at": "2024-01-01T00:00:00Z",
    },
    {
        "product_id": "P6",
        "product_name": "mystery thing",
        "brand": "acme",
        "category": "gadgets",
        "unit_price": "abc",
        "is_active": "maybe",
        "updated_at": "not a date",
    },
]

# Landed in this order; raw_id follows it. The id says what each record is for.
TRANSACTIONS_BATCH_1: list[object] = [
    _line("V1", date="2023-12-27", basket="B1", product="P2"),
    _line(
        "V2",
        date="2023-12-27",
        basket="B1",
        product="P1",
        category=" DRINKS ",
        quantity="3",
        unit_price="27.50",
        amount="82.50",
        payment="GCash ",
        status=" COMPLETED",
    ),
    _line(
        "V3",
        date="2024-01-02",
        basket="B2",
        product="P3",
        category="noodles",
        quantity=4,
        unit_price=15,
        amount=60,
        payment="MAYA",
    ),
    _line("V4", date="2024-01-03", basket="B2", product="P2"),
    _line(
        "V5",
        date="2024-01-03",
        basket="B2",
        product="P1",
        category="Beverages",
        quantity=1,
        unit_price=27.5,
        amount=27.5,
        payment="card",
        status="refunded",
    ),
    _line("V6", date="2024-01-24", basket="B3", product="P2", customer_id="C9"),
    _line(
        "V7",
        date="2024-01-24",
        basket="B3",
        product="P1",
        category="softdrinks",
        quantity=2,
        unit_price=27.5,
        amount=55,
    ),
    _line(
        "V8",
        date="2024-02-01",
        basket="B4",
        product="P4",
        category="Personal  care",
        quantity=1,
        unit_price=45,
        amount=45.04,
        status="voided",
    ),
    # D2: the version with updated_at lands first, the one without later; updated_at still wins
    _line("D2", date="2024-01-10", basket="B5", amount=37, updated_at="2024-01-10T09:00:00"),
    _line("D2", date="2024-01-10", basket="B5", amount=37, quantity=2, unit_price=18.5),
    _line("D1", date="2024-01-05", basket="B6", updated_at="2024-01-05T10:00:00Z"),
    _line(
        "D1",
        date="2024-01-05",
        basket="B6",
        quantity=1,
        amount=18.5,
        updated_at="2024-01-06T10:00:00Z",
    ),
    # D3: the newest version is invalid, so the older valid one stays the winner
    _line("D3", date="2024-01-09", basket="B7", updated_at="2024-01-09T10:00:00Z"),
    _line("D3", date="2024-01-09", basket="B7", amount="abc", updated_at="2024-02-09T10:00:00Z"),
    # one record per rejection reason, then several at once, then hostile shapes
    _line(None),
    _line("R-invalid-type", quantity="two"),
    _line("R-missing-field", store="   "),
    _line("R-invalid-enum", payment="bitcoin"),
    _line("R-unknown-category", category="Gadgets"),
    _line("R-non-positive", quantity=0, amount=0),
    _line("R-future", date="2999-01-01"),
    _line("R-unknown-product", product="P999"),
    _line("R-mismatch", amount=40),
    _line("R-multi", date="31/12/2024", payment="bitcoin", product="P999"),
    [1, 2, 3],
    "just a string",
    _line("R-hostile", date="2024-02-30", quantity=1e300, updated_at="yesterday"),
    _line("R-bad-zone", updated_at="2024-01-08T10:00:00+16:00"),
]

EXPECTED_REASONS: dict[str, list[str]] = {
    "D3": ["invalid_type"],
    "R-invalid-type": ["invalid_type"],
    "R-missing-field": ["missing_required_field"],
    "R-invalid-enum": ["invalid_enum"],
    "R-unknown-category": ["unknown_category"],
    "R-non-positive": ["non_positive_amount"],
    "R-future": ["future_date"],
    "R-unknown-product": ["unknown_product"],
    "R-mismatch": ["amount_mismatch"],
    "R-multi": ["invalid_type", "invalid_enum", "unknown_product"],
    "R-hostile": ["invalid_type"],
    "R-bad-zone": ["invalid_type"],
}

TRANSACTIONS_BATCH_2: list[object] = [
    _line(
        "N1",
        date="2024-02-06",
        basket="B8",
        product="P3",
        category="Instant Noodles",
        quantity=1,
        unit_price=15,
        amount=15,
    ),
    _line("N2", date="2024-02-06", basket="B8", product="P2"),
    # an older correction of D1 must not displace its current winner
    _line(
        "D1",
        date="2024-01-05",
        basket="B6",
        quantity=3,
        amount=55.5,
        updated_at="2024-01-05T12:00:00Z",
    ),
    # a newer correction of V1 must replace it
    _line(
        "V1",
        date="2023-12-27",
        basket="B1",
        product="P2",
        quantity=1,
        amount=18.5,
        updated_at="2024-01-15T00:00:00Z",
    ),
    _line("R-batch-2", date="2024-02-06", amount=-37, quantity=-2),
]
