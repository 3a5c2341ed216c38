"""Every rendered object, deploy/ file and skaffold.yaml against strict schemas.

The schemas come from registry packages pinned in uv.lock and scripts/schema-tools (which
package covers which kind, at which version: :mod:`tests.validation.validator`). None is
read from outside the repository, so a fresh clone runs these after `make setup tools`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.manifests import chart
from tests.validation.validator import schema_errors

ARGOCD_APPLICATIONS = sorted((chart.REPO_ROOT / "deploy" / "argocd").glob("*.yaml"))
SKAFFOLD = chart.REPO_ROOT / "skaffold.yaml"


def _load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def test_every_rendered_document_is_valid(
    rendered_scenarios: dict[str, list[dict[str, Any]]],
) -> None:
    failures = {
        f"{scenario}: {doc['kind']} {doc['metadata']['name']}": errors
        for scenario, docs in rendered_scenarios.items()
        for doc in docs
        if (errors := schema_errors(doc))
    }
    assert failures == {}
    kinds = {doc["kind"] for docs in rendered_scenarios.values() for doc in docs}
    assert kinds >= {
        "WorkflowTemplate", "CronWorkflow", "EventSource", "Sensor", "ServiceMonitor",
        "PodMonitor", "PrometheusRule", "ConfigMap", "NetworkPolicy", "ServiceAccount",
        "Role", "RoleBinding",
    }  # fmt: skip


def test_argocd_applications_are_valid_and_point_at_the_chart() -> None:
    environments = set()
    for path in ARGOCD_APPLICATIONS:
        for app in _load_all(path):
            assert schema_errors(app) == []
            source = app["spec"]["source"]
            assert source["path"] == "charts/dbt-workbench"
            for values in source["helm"]["valueFiles"]:
                assert (chart.REPO_ROOT / source["path"] / values).resolve().is_file(), values
            assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
            environments.add(app["metadata"]["labels"]["environment"])
    assert environments == {"dev", "prod"}


def test_skaffold_config_is_valid_and_deploys_the_built_tag() -> None:
    (config,) = _load_all(SKAFFOLD)
    assert schema_errors(config) == []
    (artifact,) = config["build"]["artifacts"]
    assert artifact["image"] == "dbt-workbench/dbt-runtime"
    assert artifact["docker"]["dockerfile"] == "images/dbt-runtime/Dockerfile"
    (release,) = config["deploy"]["helm"]["releases"]
    assert (chart.REPO_ROOT / release["chartPath"] / "Chart.yaml").is_file()
    assert release["setValueTemplates"]["image.tag"] == "{{.IMAGE_TAG_dbt_workbench_dbt_runtime}}"
    for values in release["valuesFiles"]:
        assert (chart.REPO_ROOT / values).is_file()


def _mutated(doc: dict[str, Any], path: list[str | int], key: str, value: object) -> dict[str, Any]:
    changed = copy.deepcopy(doc)
    node: Any = changed
    for step in path:
        node = node[step]
    node[key] = value
    return changed


@pytest.mark.parametrize(
    ("kind", "path", "key", "value"),
    [
        ("CronWorkflow", ["spec"], "schedule", "0 * * * *"),  # removed in Argo v4
        ("WorkflowTemplate", ["spec", "synchronization"], "mutex", {"name": "x"}),  # v4: mutexes
        ("WorkflowTemplate", ["spec", "templates", 0], "contaner", {}),
        ("WorkflowTemplate", ["spec"], "podPriority", 1),  # removed in Argo v4
        ("Sensor", ["spec"], "dependency", []),
        ("Sensor", ["spec", "triggers", 0], "retryStrategy", {"factor": "2x"}),  # a number
        ("EventSource", ["spec"], "webhooks", {}),
        ("PrometheusRule", ["spec", "groups", 0], "rulez", []),
        ("ServiceMonitor", ["spec", "endpoints", 0], "intervall", "30s"),
        ("PodMonitor", ["spec"], "podMetricsEndpoint", []),
        ("NetworkPolicy", ["spec"], "egres", []),
    ],
)
def test_unknown_or_removed_fields_are_rejected(
    everything_on_docs: list[dict[str, Any]],
    kind: str,
    path: list[str | int],
    key: str,
    value: object,
) -> None:
    (doc, *_) = chart.by_kind(everything_on_docs, kind)
    assert schema_errors(doc) == []
    assert schema_errors(_mutated(doc, path, key, value)) != []


@pytest.mark.parametrize(
    ("path", "at", "key", "value"),
    [
        (ARGOCD_APPLICATIONS[0], ["spec", "syncPolicy"], "automatd", {}),
        (ARGOCD_APPLICATIONS[0], ["spec", "source", "helm"], "valuesFiles", []),
        (ARGOCD_APPLICATIONS[0], ["spec", "syncPolicy", "retry"], "limit", "5"),  # a number
        (SKAFFOLD, ["build", "artifacts", 0, "docker"], "dockerFile", "x"),
        (SKAFFOLD, ["deploy", "helm", "releases", 0], "valueFiles", []),
        (SKAFFOLD, ["build", "tagPolicy", "gitCommit"], "variant", "ShortSha"),  # not an enum
    ],
)
def test_deploy_files_with_a_typo_or_a_wrong_type_are_rejected(
    path: Path, at: list[str | int], key: str, value: object
) -> None:
    (doc, *_) = _load_all(path)
    assert schema_errors(doc) == []
    assert schema_errors(_mutated(doc, at, key, value)) != []


def test_cron_workflow_takes_v4_schedules_only(all_crons_docs: list[dict[str, Any]]) -> None:
    """Argo v4 has ``schedules`` and no ``schedule``: cron_workflow_types.go:70 at v4.1.2.

    Hera's models were generated from Argo Workflows v4.0.5 (tests/validation/argo.py), so
    this pins that the package really is a v4 one: a v3 model would take ``schedule``.
    """
    for cron in chart.by_kind(all_crons_docs, "CronWorkflow"):
        assert cron["spec"]["schedules"]
        assert "schedule" not in cron["spec"]
        moved = copy.deepcopy(cron)
        moved["spec"]["schedule"] = moved["spec"].pop("schedules")[0]
        errors = schema_errors(moved)
        assert any("'schedule' was unexpected" in e for e in errors), errors
        assert any("'schedules' is a required property" in e for e in errors), errors


def test_event_source_webhook_fields_are_checked_inline(
    everything_on_docs: list[dict[str, Any]],
) -> None:
    """WebhookEventSource embeds WebhookContext inline (argo-events v1.9.11
    pkg/apis/events/v1alpha1/eventsource_types.go:152): its fields sit beside ``filter``.
    Hera's model nests them under ``webhookContext``; tests/validation/argo.py lifts them, so
    the real shape passes and a typo among them still fails."""
    (source,) = chart.by_kind(everything_on_docs, "EventSource")
    (name, webhook) = next(iter(source["spec"]["webhook"].items()))
    assert {"endpoint", "port", "method"} <= set(webhook)
    typo = _mutated(source, ["spec", "webhook", name], "endpont", webhook["endpoint"])
    assert any("'endpont' was unexpected" in e for e in schema_errors(typo))
    nested = _mutated(source, ["spec", "webhook", name], "webhookContext", {})
    assert schema_errors(nested) != []


def test_an_explicit_null_is_rejected(everything_on_docs: list[dict[str, Any]]) -> None:
    """The model packages allow ``null`` for every optional field; Kubernetes YAML never
    needs one and a rendered ``key: null`` is a template bug, so the null branch is dropped."""
    (rule, *_) = chart.by_kind(everything_on_docs, "PrometheusRule")
    assert schema_errors(_mutated(rule, ["spec", "groups", 0], "interval", None)) != []
    (cron, *_) = chart.by_kind(everything_on_docs, "CronWorkflow")
    assert schema_errors(_mutated(cron, ["spec"], "timezone", None)) != []


def test_schema_packages_are_the_versions_the_docstrings_name() -> None:
    """tests/validation/*.py say which upstream release each package models; an upgrade of a
    package (uv.lock, package-lock.json) must come with a new look at those words."""
    import importlib.metadata
    import json

    import hera.events.models.github.com.argoproj.argo_events.pkg.apis.events.v1alpha1 as ev
    import hera.workflows.models.io.argoproj.workflow.v1alpha1 as wf

    from tests.validation import argo, argocd, prometheus_operator

    for module in (wf, ev):
        header = Path(str(module.__file__)).read_text(encoding="utf-8").splitlines()[:2]
        assert header[1].split()[-1] == argo.GENERATED_FROM, header
    name, version = prometheus_operator.PACKAGE
    assert importlib.metadata.version(name) == version
    name, version = argocd.PACKAGE
    lock = json.loads(argocd.LOCK.read_text(encoding="utf-8"))
    assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_missing_argocd_schema_names_make_tools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.validation import argocd

    monkeypatch.setattr(argocd, "SCHEMA", tmp_path / "absent.schema.json")
    monkeypatch.setattr(argocd, "REPO_ROOT", tmp_path)
    argocd.strict_schema.cache_clear()
    try:
        with pytest.raises(argocd.SchemaNotInstalled, match="make tools"):
            argocd.strict_schema()
    finally:
        argocd.strict_schema.cache_clear()


def test_strict_copy_closes_objects_but_keeps_free_form_fields_open() -> None:
    from tests.validation.strict import strict_copy

    schema = {
        "type": "object",
        "properties": {
            "plugin": {"type": "object"},  # free-form: no properties
            "props": {
                "type": "object",
                "properties": {"properties": {"type": "string"}, "allOf": {"type": "string"}},
            },
            "crd": {
                "type": "object",
                "properties": {},
                "x-kubernetes-preserve-unknown-fields": True,
            },
        },
    }
    strict = strict_copy(schema)
    assert strict["additionalProperties"] is False
    assert "additionalProperties" not in strict["properties"]["plugin"]
    assert strict["properties"]["props"]["additionalProperties"] is False
    assert set(strict["properties"]["props"]["properties"]) == {"properties", "allOf"}
    assert "additionalProperties" not in strict["properties"]["crd"]
    assert "additionalProperties" not in schema  # the original is untouched
