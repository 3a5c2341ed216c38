"""The dbt project parses with no database, documents everything, and selects per layer.

No PostgreSQL here: `dbt parse` and `dbt ls` must work at image build time, where the profile
only has its defaults (the connection points at a port nobody listens on).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from dbt.cli.main import dbtRunner

from tests import dbt_support as dbt
from workbench import dbt_cli
from workbench.config import dbt_project_dir

NO_DATABASE = {
    "POSTGRES_HOST": "127.0.0.1",
    "POSTGRES_PORT": "1",
    "POSTGRES_USER": "nobody",
    "POSTGRES_PASSWORD": "",
    "POSTGRES_DB": "nowhere",
    "POSTGRES_SSLMODE": "disable",
}

DESIGN_MODELS = {
    "bronze": {"bronze_transactions", "bronze_products"},
    "silver": {
        "silver_transaction_versions",
        "silver_validated_transactions",
        "silver_rejected_transactions",
        "silver_products",
        "silver_transaction_checks",
    },
    "gold": {"gold_monthly_summary", "gold_category_trends"},
    "platinum": {
        "platinum_transaction_embeddings",
        "platinum_product_recommendations",
        "platinum_product_embeddings",
    },
}


@pytest.fixture(scope="module")
def parsed_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A target dir holding the parse; later `dbt ls` calls reuse it (partial parsing)."""
    target = tmp_path_factory.mktemp("dbt-parse")
    completed = dbt.run_dbt(["parse"], NO_DATABASE, target)
    assert completed.returncode == 0, completed.stdout[-4000:]
    return target


@pytest.fixture(scope="module")
def manifest(parsed_target: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((parsed_target / "manifest.json").read_text())
    return data


def _selected(selector: str, target: Path) -> set[str]:
    # in process: four `dbt ls` subprocesses would spend most of their time importing dbt
    project = str(dbt_project_dir())
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**NO_DATABASE, "DBT_TARGET_PATH": str(target)}.items():
            patch.setenv(key, value)
        dirs = ["--project-dir", project, "--profiles-dir", project, "--log-path", str(target)]
        result = dbtRunner().invoke(
            ["ls", "--selector", selector, "--output", "name", "--quiet", *dirs]
        )
    assert result.success, result.exception
    assert isinstance(result.result, list)
    return set(result.result)


def _models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def test_models_land_in_their_layer_schema_with_layer_tag(manifest: dict[str, Any]) -> None:
    models = _models(manifest)
    assert set(models) == set().union(*DESIGN_MODELS.values())
    for layer, names in DESIGN_MODELS.items():
        for name in names:
            assert models[name]["schema"] == layer, name
            assert layer in models[name]["tags"], name


def test_materializations_and_contracts(manifest: dict[str, Any]) -> None:
    models = _models(manifest)
    materialized = {name: node["config"]["materialized"] for name, node in models.items()}
    assert materialized == {
        "bronze_transactions": "incremental",
        "bronze_products": "incremental",
        "silver_transaction_versions": "incremental",
        "silver_validated_transactions": "incremental",
        "silver_rejected_transactions": "view",
        "silver_products": "incremental",
        "silver_transaction_checks": "view",
        "gold_monthly_summary": "table",
        "gold_category_trends": "table",
        "platinum_transaction_embeddings": "view",
        "platinum_product_recommendations": "view",
        "platinum_product_embeddings": "view",
    }
    for name in ("silver_transaction_versions", "silver_validated_transactions", "silver_products"):
        assert models[name]["config"]["contract"]["enforced"] is True
    assert models["silver_transaction_versions"]["config"]["unique_key"] == "raw_id"
    assert models["silver_validated_transactions"]["config"]["unique_key"] == "transaction_id"


def test_every_model_and_column_is_documented(manifest: dict[str, Any]) -> None:
    for name, node in _models(manifest).items():
        assert node["description"].strip(), name
        assert node["columns"], name
        for column, spec in node["columns"].items():
            assert spec["description"].strip(), f"{name}.{column}"
        assert node["patch_path"].endswith(f"{name}.yml"), name


def test_failures_are_stored_in_schema_test_failures(manifest: dict[str, Any]) -> None:
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    assert tests
    for test in tests:
        assert test["config"]["store_failures"] is True, test["name"]
        assert test["schema"] == "test_failures", test["name"]


def test_sources_have_freshness_and_exposures_read_platinum(manifest: dict[str, Any]) -> None:
    sources = {s["name"]: s for s in manifest["sources"].values()}
    # product_neighbours: what `workbench embed` writes for platinum_product_recommendations
    assert set(sources) == {"transactions", "products", "ingest_errors", "product_neighbours"}
    for name in ("transactions", "products"):
        assert sources[name]["loaded_at_field"] == "ingested_at"
        assert sources[name]["freshness"]["error_after"]["count"] == 72
    exposures = manifest["exposures"].values()
    assert {e["name"] for e in exposures} == {
        "rag_transaction_search",
        "llm_recommendation_assistant",
    }
    for exposure in exposures:
        assert all(
            dep.split(".")[-1].startswith("platinum_") for dep in exposure["depends_on"]["nodes"]
        )


def test_unit_tests_cover_the_tricky_logic(manifest: dict[str, Any]) -> None:
    covered = {u["model"] for u in manifest["unit_tests"].values()}
    assert covered == {
        "silver_transaction_versions",
        "silver_transaction_checks",
        "gold_monthly_summary",
        "gold_category_trends",
    }


def test_selectors_select_their_layer(parsed_target: Path) -> None:
    bronze = _selected("bronze", parsed_target)
    silver = _selected("silver", parsed_target)
    maintenance = _selected("maintenance", parsed_target)
    every = _selected("all", parsed_target)

    assert DESIGN_MODELS["bronze"] <= bronze
    assert not (bronze & (DESIGN_MODELS["silver"] | DESIGN_MODELS["gold"]))
    # the reconciliation reads silver: it belongs to the silver run, never to the bronze run
    assert "reconciliation_transactions" not in bronze
    assert "reconciliation_transactions" in silver
    assert DESIGN_MODELS["silver"] | {"category_mapping", "accepted_categories"} <= silver
    assert not (silver & DESIGN_MODELS["gold"])
    downstream = DESIGN_MODELS["silver"] | DESIGN_MODELS["gold"] | DESIGN_MODELS["platinum"]
    assert downstream <= maintenance
    assert not (maintenance & DESIGN_MODELS["bronze"])
    assert set().union(*DESIGN_MODELS.values()) <= every
    assert "reconciliation_transactions" in every


def test_the_detailed_log_rolls_over_at_the_runtime_limit(tmp_path: Path) -> None:
    """Every runtime invocation passes dbt_cli.common_args: dbt's log file rolls over at
    LOG_FILE_MAX_BYTES instead of growing run after run (33 MB after ~15 runs before)."""
    import os
    import subprocess
    import sys

    logs = tmp_path / "logs"
    logs.mkdir()
    old = "x" * (dbt_cli.LOG_FILE_MAX_BYTES + 1)
    (logs / "dbt.log").write_text(old)
    program = (
        "import sys; from workbench import dbt_cli; from workbench.config import dbt_project_dir;"
        "r = dbt_cli.invoke(['parse', *dbt_cli.common_args(dbt_project_dir())]);"
        "sys.exit(0 if r.success else 1)"
    )
    env = {
        **os.environ,
        **NO_DATABASE,
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(logs),
    }
    completed = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert (logs / "dbt.log.1").read_text() == old
    assert 0 < (logs / "dbt.log").stat().st_size < dbt_cli.LOG_FILE_MAX_BYTES
