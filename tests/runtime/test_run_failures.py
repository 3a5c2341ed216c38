"""A failing model and a failing test: exit 1, recorded in history, pushed as metrics, logged.

The same runs are searched for the test password: it must appear in no log line, no dbt log
file and no artifact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.pgcluster import TEST_PASSWORD
from tests.runtime.cli_runs import CliRun, run_workbench
from tests.runtime.dbt_projects import FAILING_FILES, runner_env, write_project
from tests.runtime.servers import Pushgateway

pytestmark = pytest.mark.integration

BROKEN_ID = "model.scout_retail.broken"
CHILD_ID = "model.scout_retail.needs_broken"
GOOD_ID = "model.scout_retail.good"
FAILING_TEST_PREFIX = "test.scout_retail.not_null_good_maybe."

LABELS = {
    "WORKFLOW_NAME": "wb-silver-abc12",
    "WORKFLOW_UID": "6f1c3c1e-0000-4000-8000-000000000001",
    "POD_NAME": "wb-silver-abc12-run-1",
    "POD_NAMESPACE": "data",
}


def failing_test_id(ids: Iterable[str]) -> str:
    (found,) = {i for i in ids if i.startswith(FAILING_TEST_PREFIX)}
    return found


@dataclass(frozen=True)
class Runs:
    good: CliRun
    failing: CliRun
    work: Path
    conninfo: str


@pytest.fixture(scope="module")
def runs(module_pg_env: dict[str, str], module_tmp: Path, pushgateway: Pushgateway) -> Runs:
    # First the layer as it was yesterday (only the good model, no tests): a full, successful
    # run, so a last success exists; then today's layer, with a broken model and a failing test.
    yesterday = write_project(
        module_tmp / "yesterday", {"models/good.sql": FAILING_FILES["models/good.sql"]}
    )
    project = write_project(module_tmp / "project", FAILING_FILES)
    env = runner_env(module_pg_env, project, module_tmp, PUSHGATEWAY_URL=pushgateway.url, **LABELS)
    good = run_workbench("run", "--layer", "silver", env={**env, "DBT_PROJECT_DIR": str(yesterday)})
    failing = run_workbench("run", "--layer", "silver", env=env)
    conninfo = " ".join(
        f"{key}={module_pg_env['POSTGRES_' + key.upper()]}"
        for key in ("host", "port", "user", "password")
    )
    return Runs(good, failing, module_tmp, f"{conninfo} dbname={module_pg_env['POSTGRES_DB']}")


def test_a_clean_selection_succeeds_and_a_failing_layer_exits_1(runs: Runs) -> None:
    assert runs.good.exit_code == 0, runs.good.stderr[-3000:]
    assert runs.failing.exit_code == 1, runs.failing.stderr[-3000:]


def test_node_results_record_the_error_the_failure_and_the_skip(runs: Runs) -> None:
    with psycopg.connect(runs.conninfo) as conn:
        rows = conn.execute(
            """
            select n.unique_id, n.status, n.failures, n.message, i.exit_code, i.workflow_name,
                   i.workflow_uid, i.pod_name, i.pod_namespace, i.tests_failed
            from ops.dbt_node_results n join ops.dbt_invocations i using (invocation_id)
            where i.exit_code = 1
            """
        ).fetchall()
        codes = [
            r[0]
            for r in conn.execute("select exit_code from ops.dbt_invocations order by started_at")
        ]
    by_node = {row[0]: row for row in rows}
    assert codes == [0, 1]
    assert by_node[BROKEN_ID][1] == "error"
    assert "no_such_column" in by_node[BROKEN_ID][3]
    assert by_node[failing_test_id(by_node)][1:3] == ("fail", 5)  # maybe is null for odd ids
    assert by_node[CHILD_ID][1] == "skipped"
    assert by_node[GOOD_ID][1] == "success"
    assert by_node[GOOD_ID][4:9] == (
        1,
        LABELS["WORKFLOW_NAME"],
        LABELS["WORKFLOW_UID"],
        LABELS["POD_NAME"],
        LABELS["POD_NAMESPACE"],
    )
    assert by_node[GOOD_ID][9] == 1


def test_pushed_metrics_show_the_failure_and_keep_the_last_success(
    runs: Runs, pushgateway: Pushgateway
) -> None:
    with psycopg.connect(runs.conninfo) as conn:
        success_at, failed_at = conn.execute(
            "select max(finished_at) filter (where success),"
            " max(finished_at) filter (where not success)"
            " from ops.dbt_invocations where layer = 'silver'"
        ).fetchone() or (None, None)
    assert success_at is not None and failed_at is not None
    layer = {"job": "dbt-workbench", "layer": "silver"}
    assert pushgateway.sample("dbt_workbench_run_success", **layer) == 0
    assert pushgateway.sample("dbt_workbench_run_exit_code", **layer) == 1
    assert pushgateway.sample("dbt_workbench_tests_failed", **layer) == 1
    failing = failing_test_id(re.findall(r'node="([^"]+)"', pushgateway.metrics_text()))
    assert pushgateway.sample("dbt_workbench_test_failures", node=failing, **layer) == 5
    assert pushgateway.sample("dbt_workbench_node_success", node=BROKEN_ID, **layer) == 0
    assert pushgateway.sample("dbt_workbench_run_nodes", status="error", **layer) == 1
    assert pushgateway.sample("dbt_workbench_run_nodes", status="skipped", **layer) == 1
    assert pushgateway.sample("dbt_workbench_run_last_timestamp_seconds", **layer) == pytest.approx(
        failed_at.timestamp(), abs=0.01
    )
    assert pushgateway.sample(
        "dbt_workbench_run_last_success_timestamp_seconds", **layer
    ) == pytest.approx(success_at.timestamp(), abs=0.01)
    # grouping key job + layer only: the Pushgateway fills in an empty instance for the group
    pushed = [
        line
        for line in pushgateway.metrics_text().splitlines()
        if line.startswith("dbt_workbench_run_success{")
    ]
    assert pushed and all('instance=""' in line for line in pushed), pushed


def test_json_log_lines_name_the_failed_nodes_with_argo_labels(runs: Runs) -> None:
    assert runs.failing.stdout == ""  # dbt's console output is off; our events go to stderr
    nodes = {event["node_id"]: event for event in runs.failing.named("dbt_node")}
    broken = nodes[BROKEN_ID]
    assert broken["level"] == "error" and broken["status"] == "error"
    assert broken["resource_type"] == "model" and "no_such_column" in broken["message"]
    assert broken["workflow_name"] == LABELS["WORKFLOW_NAME"]
    assert broken["pod_name"] == LABELS["POD_NAME"]
    assert nodes[failing_test_id(nodes)]["failures"] == 5
    assert nodes[GOOD_ID]["rows_affected"] == 10
    (summary,) = runs.failing.named("dbt_invocation")
    assert summary["exit_code"] == 1 and summary["layer"] == "silver"
    assert summary["selection"] == "selector:silver"
    expected = {"success": 1, "pass": 1, "error": 1, "fail": 1, "skipped": 1}
    assert summary["nodes_by_status"] == expected
    assert set(summary["failed_nodes"]) == {BROKEN_ID, failing_test_id(nodes)}
    assert summary["workflow_uid"] == LABELS["WORKFLOW_UID"]


def test_the_password_appears_in_no_output_log_file_or_artifact(runs: Runs) -> None:
    texts = {
        "good stdout": runs.good.stdout,
        "good stderr": runs.good.stderr,
        "failing stdout": runs.failing.stdout,
        "failing stderr": runs.failing.stderr,
    }
    files = [p for p in (runs.work / "logs").rglob("*") if p.is_file()]
    files += [p for p in (runs.work / "target").rglob("*") if p.is_file()]
    assert any(p.name == "dbt.log" for p in files), "dbt wrote no log file to DBT_LOG_PATH"
    texts.update({str(p): p.read_bytes().decode("utf-8", errors="replace") for p in files})
    leaked = [where for where, text in texts.items() if TEST_PASSWORD in text]
    assert leaked == []
    assert len(texts["failing stderr"]) > 0
