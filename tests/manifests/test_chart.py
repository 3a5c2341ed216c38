"""helm lint --strict / helm template with the real helm v4 on every values scenario."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.manifests import chart

MONITORING_KINDS = {"ServiceMonitor", "PodMonitor", "PrometheusRule"}


def test_ci_scenarios_cover_minimal_everything_and_prod() -> None:
    assert {p.stem for p in chart.CI_VALUES} == {
        "minimal-values",
        "everything-on-values",
        "prod-like-values",
    }


@pytest.mark.parametrize("values", [*chart.CI_VALUES, *chart.DEPLOY_VALUES], ids=lambda p: p.name)
def test_helm_lint_strict_passes(values: Path) -> None:
    result = chart.helm("lint", "--strict", str(chart.CHART_DIR), "-f", str(values))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


def test_every_scenario_renders_the_template_and_its_crons(
    rendered_scenarios: dict[str, list[dict[str, Any]]],
) -> None:
    crons = {
        name: sorted(d["metadata"]["name"] for d in chart.by_kind(docs, "CronWorkflow"))
        for name, docs in rendered_scenarios.items()
    }
    layer_crons = [f"wb-dbt-workbench-{n}" for n in ("bronze", "full-refresh", "gold")]
    layer_crons += ["wb-dbt-workbench-maintenance", "wb-dbt-workbench-silver"]
    assert crons["minimal-values"] == layer_crons  # docs publish is off by default
    assert crons["everything-on-values"] == sorted([*layer_crons, "wb-dbt-workbench-docs"])
    for docs in rendered_scenarios.values():
        assert len(chart.by_kind(docs, "WorkflowTemplate")) == 1


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"image": {"pullPolicy": "Sometimes"}}, "/image/pullPolicy"),
        ({"unknownKey": True}, "additional properties 'unknownKey' not allowed"),
        ({"cronWorkflows": {"silver": {"enabled": "yes"}}}, "/cronWorkflows/silver/enabled"),
        ({"cronWorkflows": {"platinum": {"enabled": True}}}, "'platinum' not allowed"),
        (
            {"cronWorkflows": {"gold": {"schedules": ["every day"]}}},
            "/cronWorkflows/gold/schedules/0",
        ),
        ({"cronWorkflows": {"docs": {"enabled": True}}}, "/docs/bucket"),
        ({"resources": {"limits": {"gpu": 1}}}, "invalid propertyName 'gpu'"),
        (
            {"networkPolicy": {"postgres": {"cidrs": ["10.0.0.0"]}}},
            "/networkPolicy/postgres/cidrs/0",
        ),
        ({"postgres": {"password": "hunter2"}}, "additional properties 'password' not allowed"),
        (
            {"cronWorkflows": {"gold": {"staleAfterSeconds": 60}}},
            "/cronWorkflows/gold/staleAfterSeconds",
        ),
        (
            {"cronWorkflows": {"docs": {"staleAfterSeconds": 3600}}},
            "additional properties 'staleAfterSeconds' not allowed",
        ),
    ],
    ids=[
        "bad-enum",
        "unknown-top-level-key",
        "wrong-type",
        "no-platinum-cron",
        "bad-cron-expression",
        "docs-cron-without-bucket",
        "unknown-resource",
        "cidr-without-prefix",
        "no-inline-credentials",
        "stale-threshold-too-short",
        "docs-has-no-stale-alert",
    ],
)
def test_invalid_values_are_rejected_by_the_schema(
    tmp_path: Path, values: dict[str, Any], message: str
) -> None:
    bad = tmp_path / "bad-values.yaml"
    bad.write_text(json.dumps(values), encoding="utf-8")  # JSON is YAML
    result = chart.helm("template", chart.RELEASE, str(chart.CHART_DIR), "-f", str(bad))
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    assert message in result.stderr


def test_schema_forbids_unknown_keys_at_every_level() -> None:
    schema = json.loads((chart.CHART_DIR / "values.schema.json").read_text(encoding="utf-8"))
    loose: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        if "properties" in node and node.get("additionalProperties") is not False:
            loose.append(path or "<root>")
        for key, child in node.get("properties", {}).items():
            walk(child, f"{path}/{key}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{path}[]")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}/*")

    walk(schema, "")
    assert loose == []


def test_every_value_in_values_yaml_is_documented() -> None:
    """Each leaf value has a comment right above it (entries of a documented map excepted)."""
    lines = (chart.CHART_DIR / "values.yaml").read_text(encoding="utf-8").splitlines()

    def documented(index: int) -> bool:
        return index > 0 and lines[index - 1].strip().startswith("#")

    def parent(index: int) -> int | None:
        indent = len(lines[index]) - len(lines[index].lstrip())
        for previous in range(index - 1, -1, -1):
            text = lines[previous]
            is_key = text.strip() and not text.strip().startswith("#")
            if is_key and len(text) - len(text.lstrip()) < indent:
                return previous
        return None

    undocumented = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "- ")) or ":" not in stripped:
            continue
        key, _, rest = stripped.partition(":")
        if not rest.strip():  # a section header; its leaves carry the docs
            continue
        owner = parent(index)
        if owner is not None and documented(owner):  # an example entry of a documented map
            continue
        if not documented(index):
            undocumented.append(key)
    assert undocumented == []


def test_monitoring_objects_need_both_the_flag_and_the_crds(everything_on_path: Path) -> None:
    without_crds = chart.documents(chart.template([everything_on_path], monitoring_api=False))
    with_crds = chart.documents(chart.template([everything_on_path]))
    assert MONITORING_KINDS.isdisjoint({d["kind"] for d in without_crds})
    assert not any(d["metadata"]["name"].endswith("-dashboard") for d in without_crds)
    assert {d["kind"] for d in with_crds} >= MONITORING_KINDS
    disabled = chart.documents(chart.template())  # defaults: CRDs present, flags off
    assert MONITORING_KINDS.isdisjoint({d["kind"] for d in disabled})


def test_webhook_objects_need_both_the_flag_and_the_argo_events_crds() -> None:
    prod = chart.REPO_ROOT / "deploy" / "values-prod.yaml"  # events.enabled: true

    def webhook_objects(docs: list[dict[str, Any]]) -> set[str]:
        return {
            f"{d['kind']}/{d['metadata']['name']}"
            for d in docs
            if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "webhook"
        }

    with_crds = webhook_objects(chart.documents(chart.template([prod])))
    assert with_crds == {
        "EventSource/wb-dbt-workbench-webhook", "Sensor/wb-dbt-workbench-webhook",
        "ServiceAccount/wb-dbt-workbench-sensor", "Role/wb-dbt-workbench-sensor",
        "RoleBinding/wb-dbt-workbench-sensor",
    }  # fmt: skip
    # A cluster with Argo Workflows (argoproj.io/v1alpha1) but without Argo Events.
    workflows_only = ("--api-versions", "argoproj.io/v1alpha1")
    without = chart.documents(chart.template([prod], events_api=False, extra=workflows_only))
    assert webhook_objects(without) == set()
    assert {"WorkflowTemplate", "CronWorkflow", "PrometheusRule"} <= {d["kind"] for d in without}
    assert webhook_objects(chart.documents(chart.template())) == set()  # CRDs, flag off


def test_notes_tell_how_to_submit_and_where_docs_and_metrics_are(
    everything_on_path: Path,
) -> None:
    result = chart.helm(
        "install", chart.RELEASE, str(chart.CHART_DIR), "--dry-run=client",
        "--namespace", chart.NAMESPACE, "-f", str(everything_on_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    notes = result.stdout.split("NOTES:", 1)[1]
    assert (
        "argo submit -n dbt-workbench --from workflowtemplate/wb-dbt-workbench -p layer=silver"
        in notes
    )
    assert (
        "workbench submit --namespace dbt-workbench --template wb-dbt-workbench --layer silver"
        in notes
    )
    assert "s3://scout-retail-dbt-docs/dbt-workbench/dev/latest/index.html" in notes
    assert "http://prometheus-pushgateway.monitoring.svc:9091" in notes
    # dry-run=client serves no CRDs: the webhook was asked for but not created.
    assert "events.enabled is true but the cluster does not serve" in notes
