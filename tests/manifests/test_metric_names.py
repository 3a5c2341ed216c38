"""Alert rules, the dashboard, NOTES.txt and the docs only name metrics that something exports.

dbt_workbench_* names must be in the runtime's push registry (workbench.observability.metrics);
argo_workflows_* names must be custom metrics of the rendered WorkflowTemplate as the Argo v4
controller exports them: argo-workflows v4.1.2 util/telemetry/exporter_prometheus.go:42-47
builds the Prometheus exporter with WithNamespace(namespace) and
UnderscoreEscapingWithoutSuffixes (so `argo_workflows_<name>`, and no `_total` or unit suffix
on a counter), the namespace being "argo_workflows" (workflow/controller/controller.go:253-255).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.manifests import chart
from tests.manifests.argo_expr import replace_expression_tags
from workbench.embed.metrics import build_registry as build_embed_registry
from workbench.embed.run import EmbedResult
from workbench.observability.ingest_metrics import SourceOutcome, build_ingest_registry
from workbench.observability.metrics import build_registry
from workbench.observability.records import InvocationResult, NodeResult
from workbench.serve.metrics import ServeMetrics

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
    ingest = build_ingest_registry([SourceOutcome("s3://b/k.csv", "transactions", 0)], 0.0)
    embedded = EmbedResult("hashing:64", 64, {"product": 1}, vectors={"product": 1})
    embed = build_embed_registry(embedded, 0.0)
    return {family.name for family in [*registry.collect(), *ingest.collect(), *embed.collect()]}


def _argo_metrics(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    (template,) = chart.by_kind(docs, "WorkflowTemplate")
    spec = template["spec"]
    metrics = list(spec.get("metrics", {}).get("prometheus", []))
    for step in spec["templates"]:
        metrics += step.get("metrics", {}).get("prometheus", [])
    return metrics


def _argo_metric_names(docs: list[dict[str, Any]]) -> set[str]:
    return {f"{ARGO_PREFIX}{metric['name']}" for metric in _argo_metrics(docs)}


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
    if source == "dashboard":
        assert used & _argo_metric_names(everything_on_docs)  # the Argo panels query them


def _serve_metric_names() -> set[str]:
    """What `workbench serve` exports on /metrics: its families, a counter `x` as scraped
    (`x_total`)."""
    registry = ServeMetrics().registry
    registry_names = set()
    for family in registry.collect():
        registry_names.add(family.name)
        if family.type == "counter":
            registry_names.add(f"{family.name}_total")
    return registry_names


# A metric name as prose writes it: the runtime's family prefix or Argo's export prefix.
_PROSE_METRIC = re.compile(
    r"\b(?:argo_workflows_dbt_workbench|dbt_workbench)_[a-z0-9_]*[a-z0-9](?:_\*|\b)"
)
PROSE = [
    chart.CHART_DIR / "templates" / "NOTES.txt",
    chart.REPO_ROOT / "README.md",
    *sorted((chart.REPO_ROOT / "docs").glob("*.md")),
]


def test_every_metric_named_in_notes_and_docs_is_exported(
    everything_on_docs: list[dict[str, Any]],
) -> None:
    """A name with a `*` (`dbt_workbench_run_*`) stands for a family and is checked as a prefix;
    the Argo names must be the argo_workflows_-prefixed ones (a bare custom-metric name is what
    the template says, not what Prometheus has)."""
    exported = (
        _runtime_metric_names() | _argo_metric_names(everything_on_docs) | _serve_metric_names()
    )
    declared = {metric["name"] for metric in _argo_metrics(everything_on_docs)}
    named: dict[str, set[str]] = {}
    for path in PROSE:
        for match in _PROSE_METRIC.finditer(path.read_text(encoding="utf-8")):
            named.setdefault(match.group(), set()).add(path.name)
    assert len(named) >= 8
    unknown = {}
    for name, where in named.items():
        family = name.removesuffix("*")
        families = [e for e in exported if e.startswith(family)] if name.endswith("*") else []
        if name not in exported and name not in declared and not families:
            unknown[name] = sorted(where)
    assert unknown == {}


def test_run_level_argo_metrics_are_workflow_level_and_labelled_by_layer(
    default_docs: list[dict[str, Any]],
) -> None:
    """Workflow-level metrics are computed once, when the Workflow completes, with
    workflow.status set (workflow/controller/operator.go:580-584) and workflow.duration set
    (operator.go:2826). Template-level ones are computed for each attempt
    (operator.go:2493-2497) and again for the retry node (operator.go:2476-2483)."""
    (template,) = chart.by_kind(default_docs, "WorkflowTemplate")
    spec = template["spec"]
    assert all("metrics" not in step for step in spec["templates"])
    metrics = {m["name"]: m for m in spec["metrics"]["prometheus"]}
    runs = metrics["dbt_workbench_workflow_runs"]
    duration = metrics["dbt_workbench_workflow_duration_seconds"]
    assert runs["counter"] == {"value": "1"}
    assert duration["gauge"] == {"realtime": False, "value": "{{workflow.duration}}"}
    for metric in (runs, duration):
        labels = {label["key"]: label["value"] for label in metric["labels"]}
        assert labels["status"] == "{{workflow.status}}"
        for entrypoint, layer, expected in [
            ("dbt-run", "gold", "gold"),
            ("dbt-run", "maintenance", "maintenance"),
            ("docs-publish", "silver", "docs"),  # the docs run keeps the default layer value
        ]:
            scope = {"workflow.mainEntrypoint": entrypoint, "workflow.parameters.layer": layer}
            assert replace_expression_tags(labels["layer"], scope) == expected
