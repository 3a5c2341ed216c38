"""One catalog record with a 9 kB product_id must not fail silver_products (its primary key is a
btree index, which holds at most ~2.7 kB per entry); the record stays in bronze_products."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest

from workbench import cli

pytestmark = pytest.mark.integration

PRODUCT = {
    "product_name": "Kopiko Brown",
    "brand": "Kopiko",
    "category": "Beverages",
    "unit_price": "12.00",
    "is_active": True,
    "updated_at": "2025-01-01T00:00:00Z",
}


def test_oversized_product_id_is_kept_in_bronze_and_skipped_by_silver(
    pg_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    products = tmp_path / "products.jsonl"
    products.write_text(
        json.dumps({**PRODUCT, "product_id": "P" * 9000})
        + "\n"
        + json.dumps({**PRODUCT, "product_id": "P00001"})
        + "\n"
    )
    assert cli.main(["ingest", str(products), "--entity", "products"]) == 0

    code = cli.main(
        [
            "run",
            "--layer",
            "silver",
            "--select",
            "tag:bronze resource_type:seed silver_products",
            "--exclude",
            "resource_type:test resource_type:unit_test",
        ]
    )

    assert code == 0
    conninfo = (
        f"host={os.environ['POSTGRES_HOST']} port={os.environ['POSTGRES_PORT']} "
        f"user={os.environ['POSTGRES_USER']} password={os.environ['POSTGRES_PASSWORD']} "
        f"dbname={os.environ['POSTGRES_DB']}"
    )
    with psycopg.connect(conninfo) as conn:
        silver = conn.execute("select product_id from silver.silver_products").fetchall()
        bronze = conn.execute("select count(*) from bronze.bronze_products").fetchone()
    assert silver == [("P00001",)]
    assert bronze == (2,)
