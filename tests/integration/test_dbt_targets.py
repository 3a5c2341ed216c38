"""Target-aware schema names (dbt/macros/generate_schema_name.sql): the default target writes
the plain layer schemas; `dev` and `ci` write prefixed ones, on a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests import dbt_support as dbt
from tests.integration.test_dbt_parse import NO_DATABASE
from workbench.config import PostgresSettings

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


@pytest.mark.integration
def test_a_ci_build_writes_only_its_own_schemas(pg_env: dict[str, str], tmp_path: Path) -> None:
    """`dbt seed` with the ci target on a real server lands in ci_<run>_silver, and the plain
    silver schema the pods use stays untouched."""
    env = {**pg_env, "DBT_TARGET": "ci", "DBT_CI_RUN_ID": "77"}
    completed = dbt.run_dbt(["seed"], env, tmp_path)
    assert completed.returncode == 0, completed.stdout[-3000:]
    with psycopg.connect(PostgresSettings.from_env(pg_env).conninfo()) as conn:
        tables = conn.execute(
            "select table_schema, count(*) from information_schema.tables"
            " where table_name in ('category_mapping', 'accepted_categories')"
            " group by table_schema"
        ).fetchall()
    assert tables == [("ci_77_silver", 2)]
