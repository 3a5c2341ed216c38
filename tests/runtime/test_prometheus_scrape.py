"""Metrics travel runner -> real Pushgateway -> real Prometheus scrape -> HTTP query API.

Runs the real dbt project: a small sample dataset is landed in raw, bronze is built, then
`workbench run --layer silver` pushes its metrics.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.runtime.cli_runs import CliRun, run_workbench, workbench_command
from tests.runtime.dbt_projects import runner_env
from tests.runtime.landing import land_jsonl
from tests.runtime.pg_watch import conninfo
from tests.runtime.servers import Prometheus, Pushgateway, start_prometheus
from workbench.config import dbt_project_dir

pytestmark = pytest.mark.integration

VALIDATED = "model.scout_retail.silver_validated_transactions"


@pytest.fixture(scope="module")
def prometheus(
    pushgateway: Pushgateway, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    server = start_prometheus(tmp_path_factory.mktemp("prometheus"), pushgateway.url)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def silver_run(
    module_pg_env: dict[str, str], module_tmp: Path, pushgateway: Pushgateway
) -> tuple[CliRun, int]:
    data = module_tmp / "data"
    subprocess.run(
        workbench_command(
            "sample-data",
            "--out",
            str(data),
            "--transactions",
            "300",
            "--products",
            "20",
            "--stores",
            "3",
            "--weeks",
            "12",
        ),
        check=True,
        capture_output=True,
    )
    with psycopg.connect(conninfo(module_pg_env)) as conn:
        land_jsonl(conn, data / "products.jsonl", "products")
        for chunk in sorted(data.glob("transactions-*.jsonl")):
            land_jsonl(conn, chunk, "transactions")
    env = runner_env(module_pg_env, dbt_project_dir(), module_tmp)
    bronze = run_workbench("run", "--layer", "bronze", env=env)
    assert bronze.exit_code == 0, bronze.stderr[-3000:]
    silver = run_workbench(
        "run", "--layer", "silver", env={**env, "PUSHGATEWAY_URL": pushgateway.url}
    )
    with psycopg.connect(conninfo(module_pg_env)) as conn:
        row = conn.execute("select count(*) from silver.silver_validated_transactions").fetchone()
    return silver, int(str(row[0])) if row else -1


def _value(result: list[dict[str, object]]) -> float:
    (sample,) = result
    value = sample["value"]
    assert isinstance(value, list)
    return float(value[1])


def test_layer_status_and_duration_are_queryable(
    silver_run: tuple[CliRun, int], prometheus: Prometheus
) -> None:
    run, _ = silver_run
    assert run.exit_code == 0, run.stderr[-3000:]
    (summary,) = run.named("dbt_invocation")
    selector = '{job="dbt-workbench",layer="silver"}'
    success = prometheus.wait_for(f"dbt_workbench_run_success{selector}")
    assert _value(success) == 1
    assert success[0]["metric"] == {
        "__name__": "dbt_workbench_run_success",
        "job": "dbt-workbench",
        "layer": "silver",
    }  # honor_labels kept job/layer; no instance label was pushed
    assert _value(prometheus.query(f"dbt_workbench_run_exit_code{selector}")) == 0
    duration = _value(prometheus.query(f"dbt_workbench_run_duration_seconds{selector}"))
    assert duration == pytest.approx(summary["duration_seconds"], abs=0.01)
    last = _value(prometheus.query(f"dbt_workbench_run_last_timestamp_seconds{selector}"))
    last_success = _value(
        prometheus.query(f"dbt_workbench_run_last_success_timestamp_seconds{selector}")
    )
    assert last == last_success
    nodes = prometheus.query(f"sum(dbt_workbench_run_nodes{selector})")
    assert _value(nodes) == summary["nodes_total"]


def test_node_metrics_match_the_built_tables(
    silver_run: tuple[CliRun, int], prometheus: Prometheus
) -> None:
    run, validated_rows = silver_run
    node = f'{{layer="silver",node="{VALIDATED}"}}'
    assert _value(prometheus.wait_for(f"dbt_workbench_node_rows_affected{node}")) == validated_rows
    assert validated_rows > 0
    assert _value(prometheus.query(f"dbt_workbench_node_success{node}")) == 1
    logged = {e["node_id"]: e for e in run.named("dbt_node")}[VALIDATED]
    duration = _value(prometheus.query(f"dbt_workbench_node_duration_seconds{node}"))
    assert duration == pytest.approx(logged["duration_seconds"], abs=0.001)
    tests = prometheus.query(
        'count(dbt_workbench_node_success{layer="silver",resource_type="test"})'
    )
    assert _value(tests) == sum(1 for e in run.named("dbt_node") if e["resource_type"] == "test")
    assert _value(prometheus.query('dbt_workbench_tests_failed{layer="silver"}')) == 0
    assert run.named("dbt_invocation")[0]["tests_failed"] == 0
