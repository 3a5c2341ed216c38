"""The PrometheusRule's alerts, checked and unit-tested with the real promtool."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import prerequisites
from tests.manifests import chart
from workbench.contract import ExitCode
from workbench.observability.ingest_metrics import SourceOutcome, build_ingest_registry
from workflows.layers import DOCS_ENTRYPOINT, PULL_TIMEOUT_SECONDS, scheduled_jobs

# The runtime's contract is the one definition; the rules are rendered from its mirror.
OK, FAILED, TRANSIENT, CONFIG = (
    int(ExitCode.SUCCESS),
    int(ExitCode.FAILURE),
    int(ExitCode.RUNTIME_ERROR),
    int(ExitCode.CONFIGURATION_ERROR),
)

RUN_FAILED_SUMMARY = "dbt Workbench run of layer {layer} failed: a model or test failed"
RUN_FAILED_DESCRIPTION = (
    f"The last run of layer {{layer}} exited {FAILED}: a dbt model or test failed (never "
    "retried). Check the Workflow's logs in the Argo UI; failing test rows are in schema "
    f"test_failures. Transient errors (exit {TRANSIENT}) are retried by Argo and do not fire "
    "this alert: when they exhaust the retries the layer goes stale (DbtWorkbenchLayerStale / "
    "DbtWorkbenchLayerNeverSucceeded) and Argo's workflow metrics count the failed Workflow."
)
MISCONFIGURED_DESCRIPTION = (
    f"The last run of layer {{layer}} exited {CONFIG}: a configuration or usage error (a bad "
    "parameter, a refused password, a missing database or setting), never retried. The run's "
    "dbt_invocation log event names the cause; fix the Secret, the values or the caller's "
    "parameters."
)
STALE_DESCRIPTION = (
    "No successful {layer} run (CronWorkflow wb-dbt-workbench-{job}) for more than {seconds} "
    f"seconds: a run failed, transient errors (exit {TRANSIENT}) exhausted Argo's retries, or "
    "the schedule did not run. Check the CronWorkflow is not suspended and the last Workflows "
    "in the Argo UI."
)
NEVER_SUCCEEDED_DESCRIPTION = (
    "Prometheus has had no dbt_workbench_run_last_success_timestamp_seconds for layer {layer} "
    "(CronWorkflow wb-dbt-workbench-{job}) for more than {seconds} seconds: the layer never "
    "succeeded since install, every run failed or exhausted its retries, the runs never started "
    "or never pushed (check metrics.pushgatewayUrl), or the Pushgateway restarted without "
    "persistence. Check the last Workflows in the Argo UI and the Pushgateway."
)
EXIT_CODE = "dbt_workbench_run_exit_code"
SUCCESS = "dbt_workbench_run_success"
FAILED_TESTS = "dbt_workbench_tests_failed"
LAST_SUCCESS = "dbt_workbench_run_last_success_timestamp_seconds"
# ci/everything-on-values.yaml runs silver every 30 min and sets its threshold to 90 min.
SILVER_STALE_SECONDS = 5400


def _promtool() -> str:
    return prerequisites.require("promtool")


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    selector = ",".join(f'{k}="{v}"' for k, v in {"job": "dbt-workbench", **labels}.items())
    return {"series": f"{name}{{{selector}}}", "values": values}


def _alert(labels: dict[str, str], summary: str, description: str) -> dict[str, Any]:
    return {
        "exp_labels": {"team": "data", **labels},
        "exp_annotations": {"summary": summary, "description": description},
    }


def _case(
    series: list[dict[str, str]], checks: list[tuple[str, str, list[dict[str, Any]]]]
) -> dict[str, Any]:
    """Input series and (eval_time, alertname, the alerts firing then) checks on them."""
    return {
        "interval": "1m",
        "input_series": series,
        "alert_rule_test": [
            {"eval_time": eval_time, "alertname": alertname, "exp_alerts": alerts}
            for eval_time, alertname, alerts in checks
        ],
    }


def _run_failed(layer: str) -> dict[str, Any]:
    return _alert(
        {"layer": layer, "severity": "critical"},
        RUN_FAILED_SUMMARY.format(layer=layer),
        RUN_FAILED_DESCRIPTION.format(layer=layer),
    )


def _misconfigured(layer: str) -> dict[str, Any]:
    return _alert(
        {"layer": layer, "severity": "critical"},
        f"dbt Workbench run of layer {layer} is misconfigured",
        MISCONFIGURED_DESCRIPTION.format(layer=layer),
    )


def _stale(layer: str, job: str, seconds: int, pretty: str) -> dict[str, Any]:
    return _alert(
        {"layer": layer, "severity": "warning", "schedule": job},
        f"dbt Workbench layer {layer} has not succeeded for over {pretty}",
        STALE_DESCRIPTION.format(layer=layer, job=job, seconds=seconds),
    )


def _never_succeeded(layer: str, job: str, seconds: int, pretty: str) -> dict[str, Any]:
    return _alert(
        # absent() keeps the selector's equality labels, job included.
        {"job": "dbt-workbench", "layer": layer, "severity": "warning", "schedule": job},
        f"dbt Workbench layer {layer} has no recorded success for over {pretty}",
        NEVER_SUCCEEDED_DESCRIPTION.format(layer=layer, job=job, seconds=seconds),
    )


def _run_failed_cases() -> list[dict[str, Any]]:
    return [
        # A model or test failure (never retried) fires once it was the state for 1 min.
        _case(
            [
                _series(EXIT_CODE, {"layer": "silver"}, f"{FAILED}x10"),
                _series(SUCCESS, {"layer": "silver"}, "0x10"),
            ],
            [
                ("5m", "DbtWorkbenchRunFailed", [_run_failed("silver")]),
                ("5m", "DbtWorkbenchRunMisconfigured", []),
            ],
        ),
        # A transient attempt (success 0) stays quiet while Argo's retry is pending, and after
        # the retry succeeds.
        _case(
            [
                _series(EXIT_CODE, {"layer": "gold"}, f"{TRANSIENT}x4 {OK}x10"),
                _series(SUCCESS, {"layer": "gold"}, "0x4 1x10"),
            ],
            [
                ("3m", "DbtWorkbenchRunFailed", []),
                ("3m", "DbtWorkbenchRunMisconfigured", []),
                ("10m", "DbtWorkbenchRunFailed", []),
            ],
        ),
        # A retry that then fails a model or test does page.
        _case(
            [_series(EXIT_CODE, {"layer": "gold"}, f"{TRANSIENT}x3 {FAILED}x10")],
            [("8m", "DbtWorkbenchRunFailed", [_run_failed("gold")])],
        ),
        # A configuration error has its own alert, not the model-failure one.
        _case(
            [_series(EXIT_CODE, {"layer": "bronze"}, f"{CONFIG}x10")],
            [
                ("5m", "DbtWorkbenchRunMisconfigured", [_misconfigured("bronze")]),
                ("5m", "DbtWorkbenchRunFailed", []),
            ],
        ),
        # A fixed failure resolves; other layers' successes never fire.
        _case(
            [
                _series(EXIT_CODE, {"layer": "silver"}, f"{FAILED}x3 {OK}x10"),
                _series(EXIT_CODE, {"layer": "gold"}, f"{OK}x14"),
            ],
            [("8m", "DbtWorkbenchRunFailed", []), ("8m", "DbtWorkbenchRunMisconfigured", [])],
        ),
    ]


def _tests_failing_cases() -> list[dict[str, Any]]:
    failing = _alert(
        {"layer": "gold", "severity": "warning"},
        "3 dbt tests failing in layer gold",
        "The last run of layer gold had 3 failed or errored tests; failing rows are "
        "stored in schema test_failures.",
    )
    return [
        _case(
            [_series(FAILED_TESTS, {"layer": "gold"}, "3x10")],
            [("5m", "DbtWorkbenchTestsFailing", [failing])],
        ),
        _case(
            [_series(FAILED_TESTS, {"layer": "gold"}, "0x10")],
            [("5m", "DbtWorkbenchTestsFailing", [])],
        ),
    ]


def _freshness_cases() -> list[dict[str, Any]]:
    silver_stale = _stale("silver", "silver", SILVER_STALE_SECONDS, "1h30m0s")
    silver_never = _never_succeeded("silver", "silver", SILVER_STALE_SECONDS, "1h30m0s")
    weekly_stale = _stale("all", "full-refresh", 638100, "177h15m0s")
    gold_stale = _stale("gold", "gold", 47700, "13h15m0s")
    fresh_gold = _series(LAST_SUCCESS, {"layer": "gold"}, "0+60x300")
    return [
        # Last silver success at t=0: stale after 90 min (+5 min pending), not before; the
        # series is there, so it is not "never succeeded".
        _case(
            [_series(LAST_SUCCESS, {"layer": "silver"}, "0x300")],
            [
                ("1h25m", "DbtWorkbenchLayerStale", []),
                ("1h40m", "DbtWorkbenchLayerStale", [silver_stale]),
                ("3h", "DbtWorkbenchLayerNeverSucceeded", []),
            ],
        ),
        # Successes every minute (the value tracks the clock) keep silver fresh.
        _case(
            [_series(LAST_SUCCESS, {"layer": "silver"}, "0+60x200")],
            [("3h", "DbtWorkbenchLayerStale", []), ("3h", "DbtWorkbenchLayerNeverSucceeded", [])],
        ),
        # Each layer has its own threshold: a weekly job is not stale after 3 hours.
        # (A full refresh's success is also silver's, whose threshold here is 90 min: the
        # other layers succeed on their own.)
        _case(
            [
                _series(LAST_SUCCESS, {"layer": "all"}, "0x200"),
                _series(LAST_SUCCESS, {"layer": "silver"}, "0+60x200"),
            ],
            [("3h", "DbtWorkbenchLayerStale", [])],
        ),
        _case(
            [
                _series(LAST_SUCCESS, {"layer": "all"}, "0+0x20000"),
                _series(LAST_SUCCESS, {"layer": "bronze"}, "0+60x20000"),
                _series(LAST_SUCCESS, {"layer": "maintenance"}, "0+60x20000"),
            ],
            [("178h", "DbtWorkbenchLayerStale", [weekly_stale])],
        ),
        # Silver's last own success is old, but maintenance (which rebuilds silver under its
        # mutex) succeeded a minute ago: silver is fresh.
        _case(
            [
                _series(LAST_SUCCESS, {"layer": "silver"}, "0x300"),
                _series(LAST_SUCCESS, {"layer": "maintenance"}, "0+60x300"),
            ],
            [("1h40m", "DbtWorkbenchLayerStale", []), ("3h", "DbtWorkbenchLayerStale", [])],
        ),
        # Gold succeeded at 0, then queued behind maintenance and the Sunday full refresh
        # (6 h): no page at 7 h 20 min (the threshold without the queue, 7 h 15 min + 5 min);
        # maintenance's success at 9 h counts as gold's, so gold pages 13 h 15 min after it.
        _case(
            [
                _series(LAST_SUCCESS, {"layer": "gold"}, "0x1500"),
                _series(LAST_SUCCESS, {"layer": "maintenance"}, "_x540 32400x960"),
                _series(LAST_SUCCESS, {"layer": "silver"}, "0+60x1500"),  # silver stays fresh
            ],
            [
                ("7h30m", "DbtWorkbenchLayerStale", []),
                ("13h30m", "DbtWorkbenchLayerStale", []),
                ("22h10m", "DbtWorkbenchLayerStale", []),
                ("22h30m", "DbtWorkbenchLayerStale", [gold_stale]),
            ],
        ),
        # Fresh install, silver never succeeded (gold did): quiet until silver's window has
        # passed, then only silver fires; the longer windows of the others are still running.
        _case(
            [fresh_gold],
            [
                ("1h29m", "DbtWorkbenchLayerNeverSucceeded", []),
                ("1h31m", "DbtWorkbenchLayerNeverSucceeded", [silver_never]),
                ("1h31m", "DbtWorkbenchLayerStale", []),
            ],
        ),
        # The Pushgateway restarts without persistence at 1 h: the series vanishes (5 min
        # lookback), LayerStale cannot see it, NeverSucceeded fires one window later.
        _case(
            [_series(LAST_SUCCESS, {"layer": "silver"}, "0+60x60 _x240"), fresh_gold],
            [
                ("2h20m", "DbtWorkbenchLayerNeverSucceeded", []),
                ("2h20m", "DbtWorkbenchLayerStale", []),
                ("2h45m", "DbtWorkbenchLayerNeverSucceeded", [silver_never]),
            ],
        ),
    ]


NODE_DURATION = "dbt_workbench_node_duration_seconds"
SLOW_MODEL = "model.scout_retail.silver_validated_transactions"
# A week of runs at the duration tests' own 5-minute step (7d = 2016 samples).
WEEK_OF_SAMPLES = 7 * 24 * 12


def _slower(node: str, pretty: str) -> dict[str, Any]:
    return _alert(
        {"layer": "silver", "node": node, "severity": "warning"},
        f"dbt model {node} took {pretty}",
        f"The last run of {node} in layer silver took {pretty}, more than 2 times its median "
        "over the last 7 days (models under 30s are not watched). Compare with "
        'ops.dbt_node_results (docs/operate.md, "which model got slower this week"); a sudden '
        "jump usually means a lost index, a plan change or a batch much larger than usual.",
    )


def _duration_series(node: str, values: str, resource_type: str = "model") -> dict[str, str]:
    return _series(
        NODE_DURATION, {"layer": "silver", "node": node, "resource_type": resource_type}, values
    )


def _duration_cases() -> list[dict[str, Any]]:
    """Chart defaults: factor 2, models under 30 s not watched. Evaluated every 5 minutes."""
    week = WEEK_OF_SAMPLES
    tiny = "model.scout_retail.silver_products"
    test_node = "test.scout_retail.unique_silver_validated_transactions_transaction_id"
    checks = [
        # 40 s all week, then 100 s: more than twice the median, and over 30 s.
        ("7d30m", "DbtWorkbenchModelSlower", [_slower(SLOW_MODEL, "1m 40s")]),
        # Before the jump it was quiet.
        ("6d23h", "DbtWorkbenchModelSlower", []),
    ]
    quiet = [
        # 70 s after a week of 40 s: slower, but under twice the median.
        _duration_series(SLOW_MODEL, f"40x{week} 70x12"),
        # 1 s -> 5 s is five times the median, but a 5-second model is not watched.
        _duration_series(tiny, f"1x{week} 5x12"),
        # Tests are not models: a slower test never fires this alert.
        _duration_series(test_node, f"40x{week} 100x12", resource_type="test"),
    ]
    return [
        {
            "interval": "5m",
            "input_series": [_duration_series(SLOW_MODEL, f"40x{week} 100x12")],
            "alert_rule_test": [
                {"eval_time": t, "alertname": a, "exp_alerts": e} for t, a, e in checks
            ],
        },
        {
            "interval": "5m",
            "input_series": quiet,
            "alert_rule_test": [
                {"eval_time": "7d30m", "alertname": "DbtWorkbenchModelSlower", "exp_alerts": []}
            ],
        },
    ]


# ci/everything-on-values.yaml pulls these two sources; the bronze job pulls them.
DRIVE = SourceOutcome("gdrive://1AbCdEfGhIjKlMnOpQrStUvWxYz012345", "transactions", OK)
BUCKET = SourceOutcome("s3://scout-retail-dbt-docs/landing/products-*.csv", "products", OK)
INGEST_CODE = "dbt_workbench_ingest_source_exit_code"
INGEST_LAST = "dbt_workbench_ingest_last_timestamp_seconds"
(BRONZE,) = [job for job in scheduled_jobs() if job.pulls_first]
PULL_STALE_SECONDS = BRONZE.stale_after_seconds


def _pushed(name: str, source: SourceOutcome, values: str) -> dict[str, str]:
    """A series of `name` labelled as `workbench ingest --sources` pushes it: the labels of the
    runtime's own registry plus the grouping key (job, ingest="sources")."""
    registry = build_ingest_registry([source], 0.0)
    (labels,) = [s.labels for f in registry.collect() for s in f.samples if s.name == name]
    return _series(name, {"ingest": "sources", **labels}, values)


def _source_alert(source: SourceOutcome, severity: str, summary: str, description: str) -> dict:
    labels = {"uri": source.uri, "entity": source.entity, "severity": severity}
    return _alert(labels, summary, description.format(uri=source.uri, entity=source.entity))


def _ingest_failed(source: SourceOutcome) -> dict[str, Any]:
    return _source_alert(
        source,
        "critical",
        f"dbt Workbench pull of {source.uri} ({source.entity}) has garbage files",
        f"The last scheduled pull of {{uri}} (entity {{entity}}) exited {FAILED}: at least one "
        "file was garbage (more unparseable lines than ingest.maxErrorShare allows, or no record "
        "at all); its other files landed and bronze was built with them. Never retried. "
        'dbt_workbench_ingest_source_files{{outcome="failed"}} counts the files, the pull '
        "node's ingest.source event (argo logs) names them, the bad lines are in "
        "raw.ingest_errors: get a corrected file from whoever drops them.",
    )


def _ingest_misconfigured(source: SourceOutcome) -> dict[str, Any]:
    return _source_alert(
        source,
        "critical",
        f"dbt Workbench pull of {source.uri} ({source.entity}) is misconfigured",
        f"The last scheduled pull of {{uri}} (entity {{entity}}) exited {CONFIG}: a "
        "configuration error, never retried, so nothing of this source landed. Usually the "
        "Drive key Secret (ingest.gdrive.credentialsSecret) is missing or refused, the Drive "
        "folder is no longer shared with the service account (404), or the bucket or URI is "
        "wrong or not readable. The pull node's ingest.source event (argo logs) names the "
        "cause; fix the Secret, the sharing or ingest.pulls.",
    )


def _ingest_unavailable(source: SourceOutcome) -> dict[str, Any]:
    return _source_alert(
        source,
        "warning",
        f"dbt Workbench pull of {source.uri} ({source.entity}) keeps failing transiently",
        f"The scheduled pull of {{uri}} (entity {{entity}}) has exited {TRANSIENT} (transient: "
        f"the source unreachable, rate limits, server errors) for more than "
        f"{PULL_TIMEOUT_SECONDS} seconds, the pull step's whole retry window, so none of its "
        "files landed in this run. Check the source's availability and the pull's egress "
        "(networkPolicy); once it is back, rerun with argo submit --from "
        "cronwf/wb-dbt-workbench-bronze or wait for the next run.",
    )


def _ingest_stale(source: SourceOutcome) -> dict[str, Any]:
    return _alert(
        {"uri": source.uri, "entity": source.entity, "severity": "warning", "schedule": "bronze"},
        f"dbt Workbench has not pulled {source.uri} ({source.entity}) for over 32h45m0s",
        f"No pull of {source.uri} (entity {source.entity}) pushed an outcome for more than "
        f"{PULL_STALE_SECONDS} seconds (CronWorkflow wb-dbt-workbench-bronze): the pull step "
        "did not run, ran out of time or died before pushing, or the sources file was refused "
        f"(exit {CONFIG}, which pushes nothing). Check the CronWorkflow is not suspended and "
        "the pull node of its last Workflows in the Argo UI.",
    )


def _ingest_never_pulled(source: SourceOutcome) -> dict[str, Any]:
    return _alert(
        # absent() keeps the selector's equality labels.
        {
            "job": "dbt-workbench",
            "ingest": "sources",
            "uri": source.uri,
            "entity": source.entity,
            "severity": "warning",
            "schedule": "bronze",
        },
        f"dbt Workbench has no recorded pull of {source.uri} ({source.entity}) for over 32h45m0s",
        f"Prometheus has had no dbt_workbench_ingest_last_timestamp_seconds for {source.uri} "
        f"(entity {source.entity}) for more than {PULL_STALE_SECONDS} seconds (CronWorkflow "
        "wb-dbt-workbench-bronze): the source was added to ingest.pulls but no pull has pushed "
        "it since, every pull died before pushing or had its sources file refused, the pulls "
        "never pushed (check metrics.pushgatewayUrl), or the Pushgateway restarted without "
        "persistence. Check the pull node of the last Workflows in the Argo UI and the "
        "Pushgateway.",
    )


def _ingest_cases() -> list[dict[str, Any]]:
    pull_window = PULL_TIMEOUT_SECONDS // 60  # minutes, the series' step
    fresh = [
        _pushed(INGEST_LAST, DRIVE, "0+60x3000"),
        _pushed(INGEST_LAST, BUCKET, "0+60x3000"),
    ]
    return [
        # Garbage in the Drive folder (exit 1) fires after 1 min, naming the source; the bucket
        # pulled fine. Not a configuration or transient alert.
        _case(
            [
                _pushed(INGEST_CODE, DRIVE, f"{FAILED}x10"),
                _pushed(INGEST_CODE, BUCKET, f"{OK}x10"),
            ],
            [
                ("5m", "DbtWorkbenchIngestSourceFailed", [_ingest_failed(DRIVE)]),
                ("5m", "DbtWorkbenchIngestSourceMisconfigured", []),
                ("5m", "DbtWorkbenchIngestSourceUnavailable", []),
            ],
        ),
        # Credentials gone / folder un-shared (exit 3) has its own alert.
        _case(
            [_pushed(INGEST_CODE, DRIVE, f"{CONFIG}x10")],
            [
                ("5m", "DbtWorkbenchIngestSourceMisconfigured", [_ingest_misconfigured(DRIVE)]),
                ("5m", "DbtWorkbenchIngestSourceFailed", []),
            ],
        ),
        # A transient attempt (exit 2) whose retry succeeds never fires; a fixed failure
        # resolves.
        _case(
            [
                _pushed(INGEST_CODE, BUCKET, f"{TRANSIENT}x5 {OK}x{pull_window * 2}"),
                _pushed(INGEST_CODE, DRIVE, f"{FAILED}x3 {OK}x{pull_window * 2}"),
            ],
            [
                ("3m", "DbtWorkbenchIngestSourceUnavailable", []),
                (f"{pull_window + 10}m", "DbtWorkbenchIngestSourceUnavailable", []),
                (f"{pull_window + 10}m", "DbtWorkbenchIngestSourceFailed", []),
            ],
        ),
        # Exit 2 on every attempt: quiet through the pull's retry window, then fires.
        _case(
            [_pushed(INGEST_CODE, BUCKET, f"{TRANSIENT}x{pull_window * 2}")],
            [
                (f"{pull_window - 1}m", "DbtWorkbenchIngestSourceUnavailable", []),
                (
                    f"{pull_window + 1}m",
                    "DbtWorkbenchIngestSourceUnavailable",
                    [_ingest_unavailable(BUCKET)],
                ),
            ],
        ),
        # A plain `workbench ingest` by hand (grouping key ingest=<entity>) never pages.
        _case(
            [
                _series(
                    INGEST_CODE,
                    {"ingest": "transactions", "uri": "x.csv", "entity": "transactions"},
                    f"{FAILED}x10",
                )
            ],
            [("5m", "DbtWorkbenchIngestSourceFailed", [])],
        ),
        # Last pull of the bucket at t=0, the Drive folder pulled every minute: the bucket is
        # stale after bronze's threshold (+5 min pending), not before; neither is "never".
        _case(
            [_pushed(INGEST_LAST, BUCKET, "0x2100"), fresh[0]],
            [
                ("32h40m", "DbtWorkbenchIngestSourceStale", []),
                ("32h55m", "DbtWorkbenchIngestSourceStale", [_ingest_stale(BUCKET)]),
                ("32h55m", "DbtWorkbenchIngestSourceNeverPulled", []),
            ],
        ),
        # Both pulled regularly: quiet.
        _case(fresh, [("34h", "DbtWorkbenchIngestSourceStale", [])]),
        # The bucket is configured but never pushed: quiet until bronze's window has passed.
        _case(
            [fresh[0]],
            [
                ("32h40m", "DbtWorkbenchIngestSourceNeverPulled", []),
                ("32h50m", "DbtWorkbenchIngestSourceNeverPulled", [_ingest_never_pulled(BUCKET)]),
            ],
        ),
    ]


def _unit_tests() -> list[dict[str, Any]]:
    return [
        *_run_failed_cases(),
        *_tests_failing_cases(),
        *_freshness_cases(),
        *_ingest_cases(),
    ]


def _rule_groups(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    (rule,) = chart.by_kind(docs, "PrometheusRule")
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def _freshness_rules(groups: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(alert, schedule) -> rule of the freshness group."""
    (freshness,) = [g for g in groups if g["name"] == "dbt-workbench.freshness"]
    return {(r["alert"], r["labels"]["schedule"]): r for r in freshness["rules"]}


@pytest.fixture(scope="module")
def rules_file(tmp_path_factory: pytest.TempPathFactory, everything_on_path: Path) -> Path:
    groups = _rule_groups(chart.documents(chart.template([everything_on_path])))
    path = tmp_path_factory.mktemp("alerts") / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}), encoding="utf-8")
    return path


def test_promtool_check_rules(rules_file: Path) -> None:
    done = subprocess.run(
        [_promtool(), "check", "rules", str(rules_file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # RunFailed, RunMisconfigured, TestsFailing, ModelSlower, then LayerStale +
    # LayerNeverSucceeded per scheduled layer job; IngestSourceFailed, Misconfigured and
    # Unavailable, then IngestSourceStale + NeverPulled per pulled source (2).
    assert f"SUCCESS: {4 + 2 * 5 + 3 + 2 * 2} rules found" in done.stdout


def test_every_alert_has_a_firing_and_a_quiet_unit_test(rules_file: Path) -> None:
    cases = [*_unit_tests(), *_duration_cases()]
    checks = [check for case in cases for check in case["alert_rule_test"]]
    alerts = yaml.safe_load(rules_file.read_text())
    names = {rule["alert"] for group in alerts["groups"] for rule in group["rules"]}
    firing = {check["alertname"] for check in checks if check["exp_alerts"]}
    quiet = {check["alertname"] for check in checks if not check["exp_alerts"]}
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


def test_model_duration_regression_fires_only_above_factor_times_the_weekly_median(
    rules_file: Path,
) -> None:
    """A week of history at a 5-minute step (the 1-minute suite would evaluate 10k times)."""
    test_file = rules_file.parent / "duration_rules_test.yaml"
    test_file.write_text(
        yaml.safe_dump(
            {
                "rule_files": [rules_file.name],
                "evaluation_interval": "5m",
                "tests": _duration_cases(),
            }
        ),
        encoding="utf-8",
    )
    done = subprocess.run(
        [_promtool(), "test", "rules", str(test_file)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_slow_model_factor_and_floor_come_from_values() -> None:
    extra = (
        "--set", "monitoring.prometheusRule.enabled=true",
        "--set-json", "monitoring.prometheusRule.slowModel.factor=3.5",
        "--set-json", "monitoring.prometheusRule.slowModel.minSeconds=120",
    )  # fmt: skip
    groups = _rule_groups(chart.documents(chart.template(extra=extra)))
    (rule,) = [r for g in groups for r in g["rules"] if r.get("alert") == "DbtWorkbenchModelSlower"]
    assert " > 3.5 * max by (layer, node) (quantile_over_time(0.5, " in rule["expr"]
    assert rule["expr"].endswith(" > 120")
    refused = chart.helm(
        "template", chart.RELEASE, str(chart.CHART_DIR),
        "--set", "monitoring.prometheusRule.slowModel.factor=1",
    )  # fmt: skip
    assert refused.returncode != 0 and "factor" in refused.stderr


def test_stale_thresholds_default_to_the_layer_table_and_follow_the_override() -> None:
    on = ("--set", "monitoring.prometheusRule.enabled=true")
    derived = _freshness_rules(_rule_groups(chart.documents(chart.template(extra=on))))
    overridden = _freshness_rules(
        _rule_groups(
            chart.documents(
                chart.template(extra=(*on, "--set", "cronWorkflows.gold.staleAfterSeconds=3600"))
            )
        )
    )
    for job in scheduled_jobs():
        if job.entrypoint == DOCS_ENTRYPOINT:  # the docs publish has no freshness alert
            assert ("DbtWorkbenchLayerStale", job.name) not in derived
            continue
        expected = 3600 if job.name == "gold" else job.stale_after_seconds
        for rules, seconds in ((derived, job.stale_after_seconds), (overridden, expected)):
            stale = rules[("DbtWorkbenchLayerStale", job.name)]
            never = rules[("DbtWorkbenchLayerNeverSucceeded", job.name)]
            fresh_from = "|".join(job.fresh_from)
            assert stale["expr"].endswith(f'layer=~"{fresh_from}"}}) > {seconds}')
            assert stale["for"] == "5m"
            assert never["expr"] == (
                "absent(dbt_workbench_run_last_success_timestamp_seconds"
                f'{{job="dbt-workbench",layer=~"{fresh_from}"}})'
            )
            assert stale["labels"]["layer"] == never["labels"]["layer"] == job.layer
            assert never["for"] == f"{seconds}s"


def test_suspended_or_disabled_jobs_have_no_freshness_alerts() -> None:
    extra = (
        "--set", "monitoring.prometheusRule.enabled=true",
        "--set", "cronWorkflows.bronze.suspend=true",
        "--set", "cronWorkflows.gold.enabled=false",
    )  # fmt: skip
    rules = _freshness_rules(_rule_groups(chart.documents(chart.template(extra=extra))))
    assert {schedule for _, schedule in rules} == {"silver", "maintenance", "full-refresh"}


def test_a_schedule_overridden_without_its_threshold_fails_rendering() -> None:
    """The stale threshold follows the schedule it watches: a values file that moves gold to
    every 12 hours but keeps the 6-hour job's threshold would page twice a day, so rendering
    stops and names the value to set, with or without the alerts enabled."""

    def render(*sets: str) -> chart.HelmResult:
        args: list[str] = []
        for assignment in sets:
            args += ["--set", assignment]
        return chart.helm("template", chart.RELEASE, str(chart.CHART_DIR), *args)

    override = "cronWorkflows.gold.schedules[0]=0 */12 * * *"
    for monitoring in ("false", "true"):
        failed = render(override, f"monitoring.prometheusRule.enabled={monitoring}")
        assert failed.returncode != 0
        assert "set cronWorkflows.gold.staleAfterSeconds" in failed.stderr
    assert render(override, "cronWorkflows.gold.staleAfterSeconds=46800").returncode == 0
    # A suspended job is not watched, so its schedule may change alone.
    assert render(override, "cronWorkflows.gold.suspend=true").returncode == 0


def _ingest_rules(*sets: str) -> list[dict[str, Any]]:
    extra: list[str] = ["--set", "monitoring.prometheusRule.enabled=true"]
    for assignment in sets:
        extra += ["--set", assignment]
    groups = _rule_groups(chart.documents(chart.template(extra=tuple(extra))))
    return [r for g in groups if g["name"] == "dbt-workbench.ingest" for r in g["rules"]]


def test_pull_alerts_render_only_with_pulls_and_follow_the_bronze_threshold() -> None:
    """No pulls, no ingest rules (a push left by removed pulls must not page); a suspended
    bronze keeps the exit-code alerts but drops the per-source freshness ones; the threshold is
    bronze's, override included; the transient alert waits for the pull's retry window."""
    pull = "ingest.pulls[0].uri=s3://b/landing/,ingest.pulls[0].entity=products"
    assert _ingest_rules() == []
    rules = {r["alert"]: r for r in _ingest_rules(pull)}
    assert rules["DbtWorkbenchIngestSourceUnavailable"]["for"] == f"{PULL_TIMEOUT_SECONDS}s"
    assert rules["DbtWorkbenchIngestSourceStale"]["expr"].endswith(f") > {PULL_STALE_SECONDS}")
    assert rules["DbtWorkbenchIngestSourceStale"]["labels"]["uri"] == "s3://b/landing/"
    assert rules["DbtWorkbenchIngestSourceNeverPulled"]["for"] == f"{PULL_STALE_SECONDS}s"
    overridden = {
        r["alert"]: r for r in _ingest_rules(pull, "cronWorkflows.bronze.staleAfterSeconds=7200")
    }
    assert overridden["DbtWorkbenchIngestSourceStale"]["expr"].endswith(") > 7200")
    suspended = {r["alert"] for r in _ingest_rules(pull, "cronWorkflows.bronze.suspend=true")}
    assert suspended == {
        "DbtWorkbenchIngestSourceFailed",
        "DbtWorkbenchIngestSourceMisconfigured",
        "DbtWorkbenchIngestSourceUnavailable",
    }
