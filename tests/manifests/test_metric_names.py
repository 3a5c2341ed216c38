"""Alert rules and the dashboard only query metrics that something actually exports.

dbt_workbench_* names must be in the runtime's push registry (workbench.observability.metrics);
argo_workflows_* names must be custom metrics of the rendered WorkflowTemplate as the Argo
controller exports them (prefix argo_workflows_, counters with _total).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.manifests import chart
from workbench.observability.metrics import build_registry
from workbench.observability.records import InvocationResult, NodeResult

DASHBOARD = chart.CHART_DIR / "files" / "dashboard.json"
ARGO_PREFIX = "argo_workflows_"
PROMQL_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "inf", "nan", "by", "without", "on", "ignoring",
     "group_left", "group_right"}
)  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_GRAFANA_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_LABEL_LIST = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_:][\w:]*")


def metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are not functions, aggregations,
    keywords, label names, strings, durations or Grafana variables."""
    text = _STRING.sub('""', expr)
    text = _GRAFANA_VARIABLE.sub("", text)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _LABEL_LIST.sub("", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        is_call = text[match.end() :].lstrip().startswith("(")
        if not is_call and match.group().lower() not in PROMQL_KEYWORDS:
            names.add(match.group())
    return names


def _runtime_metric_names() -> set[str]:
    """Every family of a registry built for a run that exercises every metric."""
    finished = datetime(2025, 11, 24, 3, 0, tzinfo=UTC)
    node = NodeResult(
        unique_id="model.scout_retail.gold_category_trends",
        name="gold_category_trends",
        resource_type="model",
        status="success",
        started_at=finished - timedelta(seconds=5),
        finished_at=finished,
        duration_seconds=5.0,
        rows_affected=10,
        failures=None,
        message=None,
    )
    test = NodeResult(
        unique_id="test.scout_retail.not_null_gold_category_trends_revenue",
        name="not_null_gold_category_trends_revenue",
        resource_type="test",
        status="fail",
        started_at=finished,
        finished_at=finished,
        duration_seconds=0.1,
        rows_affected=None,
        failures=3,
        message="Got 3 results",
    )
    result = InvocationResult(
        invocation_id="inv-1",
        layer="gold",
        selection="gold",
        select=None,
        exclude=None,
        full_refresh=False,
        vars={},
        started_at=finished - timedelta(minutes=1),
        finished_at=finished,
        lock_wait_seconds=0.0,
        exit_code=1,
        error=None,
        dbt_invocation_id="dbt-1",
        labels={},
        nodes=(node, test),
    )
    registry = build_registry(result, last_success=finished - timedelta(hours=6))
    return {family.name for family in registry.collect()}


def _argo_metric_names(docs: list[dict[str, Any]]) -> set[str]:
    (template,) = chart.by_kind(docs, "WorkflowTemplate")
    names = set()
    for step in template["spec"]["templates"]:
        for metric in step.get("metrics", {}).get("prometheus", []):
            suffix = "_total" if "counter" in metric else ""
            names.add(f"{ARGO_PREFIX}{metric['name']}{suffix}")
    return names


def _dashboard_queries(node: Any) -> Iterator[str]:
    """Every PromQL string of the dashboard: panel targets and templating queries."""
    if isinstance(node, dict):
        for key, value in node.items():
            # templating "query" is also the datasource type ("prometheus"): no call, no PromQL
            is_promql = key == "expr" or (key in {"query", "definition"} and "(" in str(value))
            if is_promql and isinstance(value, str):
                yield value
            else:
                yield from _dashboard_queries(value)
    elif isinstance(node, list):
        for item in node:
            yield from _dashboard_queries(item)


def _rule_expressions(docs: list[dict[str, Any]]) -> list[str]:
    (rule,) = chart.by_kind(docs, "PrometheusRule")
    return [r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]]


def test_extractor_keeps_metrics_and_drops_functions_labels_and_keywords() -> None:
    expr = (
        'sum by (layer, status) (increase(argo_workflows_runs_total{layer=~"$layer"}[1d] '
        "offset 5m)) / on (layer) group_left max without (node) (x_seconds) > bool 1e3 "
        'unless absent(y{job="a b(c)"}) or label_replace(z, "dst", "$1", "src", "(.*)")'
    )
    assert metric_names(expr) == {"argo_workflows_runs_total", "x_seconds", "y", "z"}


@pytest.mark.parametrize("source", ["PrometheusRule", "dashboard"])
def test_every_queried_metric_is_exported(
    everything_on_docs: list[dict[str, Any]], source: str
) -> None:
    if source == "PrometheusRule":
        expressions = _rule_expressions(everything_on_docs)
    else:
        expressions = list(_dashboard_queries(json.loads(DASHBOARD.read_text(encoding="utf-8"))))
    assert len(expressions) >= 4
    used = set().union(*(metric_names(e) for e in expressions))
    exported = _runtime_metric_names() | _argo_metric_names(everything_on_docs)
    assert used, expressions
    assert sorted(used - exported) == []
