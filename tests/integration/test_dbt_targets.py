"""Target-aware schema names (dbt/macros/generate_schema_name.sql): the default target writes
the plain layer schemas; `dev` and `ci` write prefixed ones, on a real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests import dbt_support as dbt
from tests.integration.test_dbt_parse import NO_DATABASE
from tests.runtime.landing import land_jsonl
from workbench.config import PROJECT_ROOT, PostgresSettings

LAYER_MODELS = {
    "bronze": "bronze_transactions",
    "silver": "silver_validated_transactions",
    "gold": "gold_monthly_summary",
    "platinum": "platinum_product_recommendations",
}


def _schemas(env: dict[str, str], target: Path) -> dict[str, str]:
    completed = dbt.run_dbt(["parse"], {**NO_DATABASE, **env}, target)
    assert completed.returncode == 0, completed.stdout[-3000:]
    nodes = json.loads((target / "manifest.json").read_text())["nodes"]
    schemas = {
        name: nodes[f"model.scout_retail.{name}"]["schema"] for name in LAYER_MODELS.values()
    }
    tests = {n["schema"] for n in nodes.values() if n["resource_type"] == "test"}
    assert len(tests) == 1, tests
    return {**schemas, "tests": tests.pop()}


@pytest.mark.parametrize(
    ("env", "prefix"),
    [
        ({}, ""),
        ({"DBT_TARGET": "default"}, ""),
        ({"DBT_TARGET": "dev", "DBT_DEV_NAME": "Alice B."}, "dev_alice_b__"),
        ({"DBT_TARGET": "dev", "DBT_DEV_NAME": "", "USER": "bob"}, "dev_bob_"),
        ({"DBT_TARGET": "ci", "DBT_CI_RUN_ID": "run-1234"}, "ci_run_1234_"),
    ],
    ids=["unset", "default", "dev", "dev-empty-name", "ci"],
)
def test_each_target_names_its_schemas(env: dict[str, str], prefix: str, tmp_path: Path) -> None:
    expected = {model: f"{prefix}{layer}" for layer, model in LAYER_MODELS.items()}
    assert _schemas(env, tmp_path) == {**expected, "tests": f"{prefix}test_failures"}


def test_the_dev_target_prefers_the_login_name_when_no_dev_name_is_set(tmp_path: Path) -> None:
    env = {"DBT_TARGET": "dev", "USER": "carol"}
    assert _schemas(env, tmp_path)["silver_validated_transactions"] == "dev_carol_silver"


DEV_BUILD = "DBT_TARGET=dev DBT_DEV_NAME=alice dbt build --project-dir dbt --profiles-dir dbt"

PRODUCT = {
    "product_id": "P1",
    "product_name": "Kopiko Brown",
    "brand": "Kopiko",
    "category": "Beverages",
    "unit_price": "12.50",
    "is_active": True,
    "updated_at": "2026-11-01T08:00:00",
}
SALE = {
    "transaction_id": "T1",
    "transaction_date": "2026-11-02",
    "store_id": "S1",
    "product_id": "P1",
    "basket_id": "B1",
    "category": "Beverages",
    "quantity": 2,
    "unit_price": "12.50",
    "amount": "25.00",
    "payment_method": "gcash",
    "status": "completed",
}


@pytest.mark.integration
def test_the_documented_dev_build_writes_only_the_developers_schemas(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    """docs/data-model.md's command, as written, on a real server: the whole project builds
    into dev_alice_*, reading the shared raw landing, and no plain layer schema appears."""
    (tmp_path / "products.jsonl").write_text(json.dumps(PRODUCT) + "\n")
    (tmp_path / "transactions.jsonl").write_text(json.dumps(SALE) + "\n")
    with psycopg.connect(PostgresSettings.from_env(pg_env).conninfo(), autocommit=True) as conn:
        land_jsonl(conn, tmp_path / "products.jsonl", "products")
        land_jsonl(conn, tmp_path / "transactions.jsonl", "transactions")
    env = {
        **os.environ,
        **pg_env,
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", "-c", DEV_BUILD], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:]
    with psycopg.connect(PostgresSettings.from_env(pg_env).conninfo()) as conn:
        schemas = {
            row[0]
            for row in conn.execute(
                "select nspname from pg_namespace where nspname !~ '^(pg_|information_schema)'"
            )
        }
        validated = conn.execute(
            "select transaction_id, amount from dev_alice_silver.silver_validated_transactions"
        ).fetchall()
    layers = {"bronze", "silver", "gold", "platinum", "test_failures"}
    assert {f"dev_alice_{layer}" for layer in layers} <= schemas
    assert not layers & schemas
    assert validated == [("T1", Decimal("25.00"))]
