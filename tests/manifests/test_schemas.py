"""Every rendered object, deploy/ file and skaffold.yaml against the official schemas, strictly."""

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
        ("WorkflowTemplate", ["spec", "templates", 0, "synchronization"], "mutex", {"name": "x"}),
        ("WorkflowTemplate", ["spec", "templates", 0], "contaner", {}),
        ("WorkflowTemplate", ["spec"], "podPriority", 1),  # removed in Argo v4
        ("Sensor", ["spec"], "dependency", []),
        ("PrometheusRule", ["spec", "groups", 0], "rulez", []),
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


def test_schema_directory_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.validation import schema_dir

    monkeypatch.setenv(schema_dir.ENV_VAR, str(tmp_path))
    with pytest.raises(schema_dir.SchemasMissing, match=schema_dir.ENV_VAR):
        schema_dir.schemas_dir()


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
