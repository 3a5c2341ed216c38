"""The PrometheusRule's alerts, checked and unit-tested with the real promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.manifests import chart

RUN_FAILED_DESCRIPTION = (
    "The last run of layer {layer} did not succeed (see dbt_workbench_run_exit_code: "
    "1 = model or test failure, 2 = runtime error after retries). Check the Workflow's logs "
    "in the Argo UI."
)
STALE_DESCRIPTION = (
    "No successful {layer} run (CronWorkflow wb-dbt-workbench-{job}) for more than {seconds} "
    "seconds: check the CronWorkflow is not suspended and the last Workflows in the Argo UI."
)


def _promtool() -> str:
    found = shutil.which("promtool")
    if not found:
        raise FileNotFoundError(
            "promtool not found: apt-get install prometheus (the CI script .ci/run does this)"
        )
    return found


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    selector = ",".join(f'{k}="{v}"' for k, v in {"job": "dbt-workbench", **labels}.items())
    return {"series": f"{name}{{{selector}}}", "values": values}


def _alert(labels: dict[str, str], summary: str, description: str) -> dict[str, Any]:
    return {
        "exp_labels": {"team": "data", **labels},
        "exp_annotations": {"summary": summary, "description": description},
    }


def _case(
    series: list[dict[str, str]], eval_time: str, alertname: str, alerts: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [{"eval_time": eval_time, "alertname": alertname, "exp_alerts": alerts}],
    }


def _unit_tests() -> list[dict[str, Any]]:
    success = "dbt_workbench_run_success"
    failed_tests = "dbt_workbench_tests_failed"
    last_success = "dbt_workbench_run_last_success_timestamp_seconds"
    silver_stale = _alert(
        {"layer": "silver", "severity": "warning", "schedule": "silver"},
        "dbt Workbench layer silver has not succeeded for over 2h0m0s",
        STALE_DESCRIPTION.format(layer="silver", job="silver", seconds=7200),
    )
    full_refresh_stale = _alert(
        {"layer": "all", "severity": "warning", "schedule": "full-refresh"},
        "dbt Workbench layer all has not succeeded for over 174h15m0s",
        STALE_DESCRIPTION.format(layer="all", job="full-refresh", seconds=627300),
    )
    return [
        # A failed run fires once it has been the latest state for a minute ...
        _case(
            [_series(success, {"layer": "silver"}, "1 0x10")],
            "5m",
            "DbtWorkbenchRunFailed",
            [
                _alert(
                    {"layer": "silver", "severity": "critical"},
                    "dbt Workbench run of layer silver failed",
                    RUN_FAILED_DESCRIPTION.format(layer="silver"),
                )
            ],
        ),
        # ... and stays quiet for successful runs, including after a failure was fixed.
        _case(
            [
                _series(success, {"layer": "silver"}, "0x3 1x10"),
                _series(success, {"layer": "gold"}, "1x10"),
            ],
            "8m",
            "DbtWorkbenchRunFailed",
            [],
        ),
        _case(
            [_series(failed_tests, {"layer": "gold"}, "3x10")],
            "5m",
            "DbtWorkbenchTestsFailing",
            [
                _alert(
                    {"layer": "gold", "severity": "warning"},
                    "3 dbt tests failing in layer gold",
                    "The last run of layer gold had 3 failed or errored tests; failing rows are "
                    "stored in schema test_failures.",
                )
            ],
        ),
        _case(
            [_series(failed_tests, {"layer": "gold"}, "0x10")], "5m", "DbtWorkbenchTestsFailing", []
        ),
        # Last silver success at t=0: stale after 2 h (+5 m pending), not before.
        _case(
            [_series(last_success, {"layer": "silver"}, "0x200")],
            "2h10m",
            "DbtWorkbenchLayerStale",
            [silver_stale],
        ),
        _case(
            [_series(last_success, {"layer": "silver"}, "0x200")],
            "1h50m",
            "DbtWorkbenchLayerStale",
            [],
        ),
        # Hourly successes (the value tracks the clock) keep silver fresh.
        _case(
            [_series(last_success, {"layer": "silver"}, "0+60x200")],
            "3h",
            "DbtWorkbenchLayerStale",
            [],
        ),
        # Each layer has its own threshold: a weekly job is not stale after 3 hours.
        _case(
            [_series(last_success, {"layer": "all"}, "0x200")],
            "3h",
            "DbtWorkbenchLayerStale",
            [],
        ),
        _case(
            [_series(last_success, {"layer": "all"}, "0+0x20000")],
            "175h",
            "DbtWorkbenchLayerStale",
            [full_refresh_stale],
        ),
    ]


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory, everything_on_path: Path) -> Path:
    docs = chart.documents(chart.template([everything_on_path]))
    (rule,) = chart.by_kind(docs, "PrometheusRule")
    path = tmp_path_factory.mktemp("alerts") / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}), encoding="utf-8")
    return path


def test_promtool_check_rules(rules_file: Path) -> None:
    done = subprocess.run(
        [_promtool(), "check", "rules", str(rules_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 7 rules found" in done.stdout


def test_every_alert_has_a_firing_and_a_quiet_unit_test(rules_file: Path) -> None:
    tests = _unit_tests()
    alerts = yaml.safe_load(rules_file.read_text())
    names = {rule["alert"] for group in alerts["groups"] for rule in group["rules"]}
    firing = {
        c["alert_rule_test"][0]["alertname"] for c in tests if c["alert_rule_test"][0]["exp_alerts"]
    }
    quiet = {
        c["alert_rule_test"][0]["alertname"]
        for c in tests
        if not c["alert_rule_test"][0]["exp_alerts"]
    }
    assert names == firing == quiet


def test_promtool_unit_tests_pass(rules_file: Path) -> None:
    test_file = rules_file.parent / "rules_test.yaml"
    test_file.write_text(
        yaml.safe_dump(
            {"rule_files": [rules_file.name], "evaluation_interval": "1m", "tests": _unit_tests()}
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [_promtool(), "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout
