"""Batch metrics for Prometheus, pushed to a Pushgateway after each invocation.

Grouping key job="dbt-workbench" + layer, never an instance label: each push replaces the
layer's previous group, so the gateway holds the last run of every layer.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime

import structlog
from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, pushadd_to_gateway

from workbench.config import PostgresSettings
from workbench.contract import describe_exit_codes
from workbench.observability.records import InvocationResult
from workbench.observability.redact import redact_text, secret_values

JOB = "dbt-workbench"
PUSHGATEWAY_ENV = "PUSHGATEWAY_URL"
PUSH_TIMEOUT_SECONDS = 10.0
# Always exported (0 when absent) so dashboards and alerts see explicit zeros.
KNOWN_STATUSES = ("success", "pass", "warn", "fail", "error", "skipped")

log = structlog.get_logger("workbench.metrics")


def build_registry(result: InvocationResult, last_success: datetime | None) -> CollectorRegistry:
    """Every metric of the common contract for one invocation, in its own registry."""
    registry = CollectorRegistry()
    layer = result.layer

    def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, ("layer", *labels), registry=registry)

    gauge("dbt_workbench_run_last_timestamp_seconds", "When the last run finished.").labels(
        layer
    ).set(result.finished_at.timestamp())
    if last_success is not None:
        gauge(
            "dbt_workbench_run_last_success_timestamp_seconds",
            "When the last successful run finished.",
        ).labels(layer).set(last_success.timestamp())
    gauge("dbt_workbench_run_success", "1 if the last run succeeded, else 0.").labels(layer).set(
        1 if result.success else 0
    )
    gauge(
        "dbt_workbench_run_exit_code", f"Exit code of the last run ({describe_exit_codes()})."
    ).labels(layer).set(result.exit_code)
    gauge("dbt_workbench_run_duration_seconds", "Wall time of the last run.").labels(layer).set(
        result.duration_seconds
    )
    gauge(
        "dbt_workbench_run_nothing_new",
        "1 if the last run found no new input and skipped the build, else 0.",
    ).labels(layer).set(1 if result.nothing_new else 0)
    nodes = gauge("dbt_workbench_run_nodes", "Nodes of the last run by status.", ("status",))
    counts = result.node_counts()
    for status in sorted(set(KNOWN_STATUSES) | set(counts)):
        nodes.labels(layer, status).set(counts.get(status, 0))
    gauge("dbt_workbench_tests_failed", "Failed or errored tests in the last run.").labels(
        layer
    ).set(result.tests_failed)

    if result.nothing_new:
        return registry  # no node ran: the per-node gauges keep the last build's values
    test_failures = gauge(
        "dbt_workbench_test_failures", "Failing rows per test in the last run.", ("node",)
    )
    duration = gauge(
        "dbt_workbench_node_duration_seconds",
        "Execution time per node in the last run.",
        ("node", "resource_type"),
    )
    rows = gauge(
        "dbt_workbench_node_rows_affected", "Rows affected per node in the last run.", ("node",)
    )
    success = gauge(
        "dbt_workbench_node_success",
        "1 if the node succeeded (or was a passing/warning test), 0 if it failed or was skipped.",
        ("node", "resource_type"),
    )
    for node in result.nodes:
        duration.labels(layer, node.unique_id, node.resource_type).set(node.duration_seconds)
        success.labels(layer, node.unique_id, node.resource_type).set(1 if node.succeeded else 0)
        if node.rows_affected is not None and not node.is_test:
            rows.labels(layer, node.unique_id).set(node.rows_affected)
        if node.is_test and node.failures is not None:
            test_failures.labels(layer, node.unique_id).set(node.failures)
    return registry


class MetricsPusher:
    """Publisher for run_layer: pushes when PUSHGATEWAY_URL is set; failures are only logged."""

    def __init__(
        self,
        gateway: str,
        last_success_lookup: Callable[[PostgresSettings, str], datetime | None],
    ) -> None:
        self.gateway = gateway
        self.last_success_lookup = last_success_lookup

    @classmethod
    def from_env(
        cls,
        last_success_lookup: Callable[[PostgresSettings, str], datetime | None],
        env: Mapping[str, str] | None = None,
    ) -> MetricsPusher | None:
        gateway = pushgateway_url(env)
        return cls(gateway, last_success_lookup) if gateway else None

    def __call__(self, result: InvocationResult, settings: PostgresSettings) -> None:
        # A failed run keeps the previous success time, read back from the history tables.
        last_success = (
            result.finished_at
            if result.success
            else self.last_success_lookup(settings, result.layer)
        )
        # A skipped run built no node: it replaces only the run-level metrics (POST), so the
        # per-node gauges keep the last build's values (duration history, test failures).
        push_registry(
            self.gateway,
            build_registry(result, last_success),
            {"layer": result.layer},
            add=result.nothing_new,
        )


def pushgateway_url(env: Mapping[str, str] | None = None) -> str | None:
    """PUSHGATEWAY_URL, or None when metrics are not pushed."""
    gateway = (os.environ if env is None else env).get(PUSHGATEWAY_ENV, "").strip()
    return gateway or None


def push_registry(
    gateway: str,
    registry: CollectorRegistry,
    grouping_key: Mapping[str, str],
    *,
    add: bool = False,
) -> None:
    """Replace the group's metrics (PUT), or only the ones in `registry` (POST, add=True).
    A failed push is logged and never changes the command's exit code."""
    push = pushadd_to_gateway if add else push_to_gateway
    try:
        push(
            gateway,
            job=JOB,
            registry=registry,
            grouping_key=dict(grouping_key),
            timeout=PUSH_TIMEOUT_SECONDS,
        )
    except Exception as exc:  # any push failure (HTTP, DNS, timeout) must not change the exit
        log.warning(
            "metrics_push_failed",
            gateway=redact_text(gateway, secret_values()),
            error=redact_text(str(exc), secret_values()),
        )
