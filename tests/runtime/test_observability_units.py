"""Exit-code mapping, secret redaction, JSON log shape and the metric registry (no servers)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
import structlog
from prometheus_client import generate_latest

from tests.runtime.records_factory import invocation, node
from workbench.contract import ExitCode
from workbench.exit_codes import classify_build, is_connection_error
from workbench.observability.labels import argo_labels
from workbench.observability.logging import configure_logging
from workbench.observability.metrics import build_registry
from workbench.observability.redact import MASK, redact_text, redact_value, secret_values

CONNECTION_LOST = (
    "Database Error in model slow (models/slow.sql)\n  terminating connection due to "
    "administrator command\n  server closed the connection unexpectedly"
)


def test_success_is_zero_whatever_else_happened() -> None:
    assert classify_build(success=True, exception=None, completed=True, node_messages=[]) == 0


def test_model_or_test_failure_is_one() -> None:
    code = classify_build(
        success=False,
        exception=None,
        completed=True,
        node_messages=['relation "nope" does not exist', "Got 3 results, configured to fail"],
    )
    assert code == ExitCode.FAILURE


def test_lost_connection_reported_as_a_node_error_is_two() -> None:
    code = classify_build(
        success=False, exception=None, completed=True, node_messages=["boom", CONNECTION_LOST]
    )
    assert code == ExitCode.RUNTIME_ERROR


def test_dbt_exception_or_no_run_result_is_two() -> None:
    assert (
        classify_build(
            success=False, exception=RuntimeError("x"), completed=False, node_messages=[]
        )
        == ExitCode.RUNTIME_ERROR
    )
    assert (
        classify_build(success=False, exception=None, completed=False, node_messages=[])
        == ExitCode.RUNTIME_ERROR
    )


@pytest.mark.parametrize(
    "message",
    [
        CONNECTION_LOST,
        'connection to server at "10.0.0.5", port 5432 failed: Connection refused',
        "SSL SYSCALL error: EOF detected",
        "FATAL: the database system is shutting down",
    ],
)
def test_connection_error_markers(message: str) -> None:
    assert is_connection_error(message)


def test_ordinary_sql_errors_are_not_connection_errors() -> None:
    assert not is_connection_error('column "amount" does not exist')
    assert not is_connection_error(None)


def test_redaction_of_known_secret_conninfo_and_urls() -> None:
    secrets = secret_values({"POSTGRES_PASSWORD": "hunter2-pw", "AWS_SECRET_ACCESS_KEY": "abc"})
    assert secrets == ("hunter2-pw",)  # too-short values are caught by patterns instead
    assert "hunter2-pw" not in redact_text("auth failed for hunter2-pw", secrets)
    assert redact_text("host=db password='p w' dbname=x", ()) == f"host=db password={MASK} dbname=x"
    assert redact_text("postgresql://scout:topsecret@db:5432/x", ()) == (
        f"postgresql://scout:{MASK}@db:5432/x"
    )
    assert redact_value("password", "x", ()) == MASK
    assert redact_value("tests_passed", 3, ()) == 3
    assert redact_value("ctx", {"nested": ["ok hunter2-pw"]}, secrets) == {"nested": [f"ok {MASK}"]}


def test_json_log_lines_carry_event_level_timestamp_and_no_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", "very-secret-value")
    stream = io.StringIO()
    configure_logging(stream)
    try:
        structlog.get_logger("t").info(
            "dbt_node",
            node_id="model.x.y",
            message="login very-secret-value",
            password="p",  # noqa: S106 - the value must come out masked
        )
    finally:
        configure_logging()
    line = json.loads(stream.getvalue())
    assert list(line)[:3] == ["timestamp", "level", "event"]
    assert line["event"] == "dbt_node" and line["level"] == "info"
    assert line["node_id"] == "model.x.y"
    assert "very-secret-value" not in stream.getvalue()
    assert line["password"] == MASK


def test_argo_labels_from_downward_api_env() -> None:
    labels = argo_labels(
        {"WORKFLOW_NAME": "wb-silver-x", "POD_NAME": "wb-silver-x-1", "WORKFLOW_UID": ""}
    )
    assert labels == {
        "workflow_name": "wb-silver-x",
        "workflow_uid": None,
        "pod_name": "wb-silver-x-1",
        "pod_namespace": None,
    }


def _samples(result_registry: bytes) -> dict[str, float]:
    values: dict[str, float] = {}
    for line in result_registry.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def test_registry_holds_exactly_the_contract_metrics() -> None:
    nodes = (
        node("model.scout_retail.silver_products", rows=120, duration=2.5),
        node("test.scout_retail.not_null_x", "fail", failures=7),
        node("test.scout_retail.unique_x", "pass", failures=0),
        node("model.scout_retail.gold_x", "skipped"),
    )
    result = invocation("silver", 1, nodes=nodes)
    last_success = datetime(2026, 11, 1, tzinfo=UTC)
    samples = _samples(generate_latest(build_registry(result, last_success)))
    names = {key.split("{", 1)[0] for key in samples}
    assert names == {
        "dbt_workbench_run_last_timestamp_seconds",
        "dbt_workbench_run_last_success_timestamp_seconds",
        "dbt_workbench_run_success",
        "dbt_workbench_run_exit_code",
        "dbt_workbench_run_duration_seconds",
        "dbt_workbench_run_nothing_new",
        "dbt_workbench_run_nodes",
        "dbt_workbench_tests_failed",
        "dbt_workbench_test_failures",
        "dbt_workbench_node_duration_seconds",
        "dbt_workbench_node_rows_affected",
        "dbt_workbench_node_success",
    }
    assert samples['dbt_workbench_run_success{layer="silver"}'] == 0
    assert samples['dbt_workbench_run_exit_code{layer="silver"}'] == 1
    assert samples['dbt_workbench_run_duration_seconds{layer="silver"}'] == 60.0
    assert samples['dbt_workbench_run_nothing_new{layer="silver"}'] == 0
    assert samples['dbt_workbench_run_last_success_timestamp_seconds{layer="silver"}'] == (
        last_success.timestamp()
    )
    assert samples['dbt_workbench_tests_failed{layer="silver"}'] == 1
    assert samples['dbt_workbench_run_nodes{layer="silver",status="fail"}'] == 1
    assert samples['dbt_workbench_run_nodes{layer="silver",status="error"}'] == 0
    assert (
        samples['dbt_workbench_test_failures{layer="silver",node="test.scout_retail.not_null_x"}']
        == 7
    )
    assert (
        samples[
            'dbt_workbench_node_rows_affected{layer="silver",node="model.scout_retail.silver_products"}'
        ]
        == 120
    )
    success = 'dbt_workbench_node_success{layer="silver",node="%s",resource_type="%s"}'
    assert samples[success % ("model.scout_retail.silver_products", "model")] == 1
    assert samples[success % ("test.scout_retail.unique_x", "test")] == 1
    assert samples[success % ("test.scout_retail.not_null_x", "test")] == 0
    assert samples[success % ("model.scout_retail.gold_x", "model")] == 0
    assert not any("instance" in key for key in samples)


def test_last_success_is_omitted_when_never_known() -> None:
    samples = _samples(generate_latest(build_registry(invocation("gold", 2), None)))
    assert not any(key.startswith("dbt_workbench_run_last_success") for key in samples)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_readable_console_lines_not_json() -> None:
    stream = _Terminal()
    configure_logging(stream)
    try:
        structlog.get_logger("t").info("dbt_node", node_id="model.x.y", status="success")
    finally:
        configure_logging()
    text = stream.getvalue()
    assert "dbt_node" in text and "model.x.y" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_console_lines_fit_100_columns_and_keep_every_field() -> None:
    """The demo's widest event (sample_data.written, 287 columns with structlog's renderer)."""
    stream = _Terminal()
    configure_logging(stream)
    fields = {
        "out": "/home/alice/dbt-workbench/.demo/data",
        "products_records": 854,
        "records_per_second": 198318,
        "rejected": 2634,
        "seconds": 0.62,
        "superseded": 1197,
        "transaction_files": 1,
        "transactions_records": 123617,
        "unparseable_lines": 28,
        "valid_transactions": 119758,
        "reason": "only a layer's own selector run can be skipped",
    }
    try:
        structlog.get_logger("t").info("sample_data.written", **fields)
    finally:
        configure_logging()
    lines = stream.getvalue().splitlines()
    assert len(lines) > 2 and all(len(line) <= 100 for line in lines), lines
    assert "sample_data.written" in lines[0] and lines[0][2] == ":"
    text = " ".join(lines)
    for key, value in fields.items():
        shown = repr(value) if " " in str(value) else str(value)
        assert f"{key}={shown}" in text


# PostgreSQL's own wording (SQLSTATE 40P01, 40001, 55P03, 57014 under lock_timeout) as dbt
# reports it for a node.
CONFLICTS = [
    "Database Error in model silver_validated_transactions\n  deadlock detected\n  DETAIL:  "
    "Process 4711 waits for ShareLock on transaction 42; blocked by process 4712.",
    "Database Error in model gold_monthly_summary\n  could not serialize access due to "
    "concurrent update",
    "Database Error in model silver_products\n  canceling statement due to lock timeout",
    'Database Error in model bronze_products\n  could not obtain lock on relation "x"',
]


@pytest.mark.parametrize("message", CONFLICTS)
def test_a_concurrency_conflict_reported_for_a_node_is_two(message: str) -> None:
    """Issue 9's full refresh: a deadlock is the database picking a victim, not a bad model."""
    code = classify_build(
        success=False, exception=None, completed=True, node_messages=[None, message]
    )
    assert code == ExitCode.RUNTIME_ERROR


@pytest.mark.parametrize(
    "message",
    [
        'FATAL:  password authentication failed for user "dbt"',
        'connection to server at "db" (10.0.0.5), port 5432 failed: FATAL:  no pg_hba.conf '
        'entry for host "10.0.0.9", user "dbt", database "scout", no encryption',
        'FATAL:  database "scout" does not exist',
        'FATAL:  role "dbt" does not exist',
    ],
)
def test_a_refused_login_is_three(message: str) -> None:
    code = classify_build(
        success=False, exception=RuntimeError(message), completed=False, node_messages=[]
    )
    assert code == ExitCode.CONFIGURATION_ERROR


def test_a_missing_relation_is_still_a_model_failure() -> None:
    code = classify_build(
        success=False,
        exception=None,
        completed=True,
        node_messages=['relation "silver.nope" does not exist'],
    )
    assert code == ExitCode.FAILURE


def test_log_format_is_json_in_pods_and_pipes_console_on_a_terminal() -> None:
    from workbench.observability.log_format import resolve_log_format

    pod = {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}
    assert resolve_log_format(None, {}, _Terminal()) == "console"
    assert resolve_log_format(None, pod, _Terminal()) == "json", "a pod with a TTY stays JSON"
    assert resolve_log_format(None, {}, io.StringIO()) == "json"
    assert resolve_log_format(None, {}, io.StringIO(), default="console") == "console"
    assert resolve_log_format(None, {"WORKBENCH_LOG_FORMAT": "json"}, _Terminal()) == "json"
    assert resolve_log_format("console", {"WORKBENCH_LOG_FORMAT": "json"}, io.StringIO()) == (
        "console"
    )
    with pytest.raises(ValueError, match="WORKBENCH_LOG_FORMAT must be one of"):
        resolve_log_format(None, {"WORKBENCH_LOG_FORMAT": "yaml"}, io.StringIO())


def test_a_test_outside_the_layer_folders_counts_in_the_last_layer_it_reads() -> None:
    from workbench.run.console import group_of

    folders = {
        "model.p.bronze_t": "bronze",
        "model.p.silver_t": "silver",
        "seed.p.mapping": "mapping",
        "test.p.reconciliation": "reconciliation",
        "test.p.not_null_mapping": "not_null_mapping",
    }
    parents = {
        "test.p.reconciliation": ("model.p.silver_t", "model.p.bronze_t"),
        "test.p.not_null_mapping": ("seed.p.mapping",),
    }
    assert group_of("test.p.reconciliation", folders, parents) == "silver"
    assert group_of("test.p.not_null_mapping", folders, parents) == "seeds"
    assert group_of("model.p.bronze_t", folders, parents) == "bronze"
    assert group_of("operation.p.p-on-run-end-0", folders, parents) == "hooks"
