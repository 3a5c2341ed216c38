"""The one place where built objects get Helm-valued fields that Hera cannot carry.

Hera types some fields (integers, enums, maps, name lengths), so a marker string cannot
go there while building. Each function below takes the dict Hera built and sets those
fields to markers; everything else Helm-valued is set directly in the Hera code.
"""

from __future__ import annotations

import json
from typing import Any

from workbench.contract import BUSINESS_TIMEZONE
from workflows import helm
from workflows.layers import Job

Manifest = dict[str, Any]


def _labels(component: str, extra: dict[str, str] | None = None) -> str:
    merged = {"app.kubernetes.io/component": component, **(extra or {})}
    extra_dict = " ".join(f"{json.dumps(k)} {json.dumps(v)}" for k, v in merged.items())
    return helm.value(
        f'include "dbt-workbench.labels" . | fromYaml | merge (dict {extra_dict}) | toJson'
    )


def _selector_labels(component: str, extra: dict[str, str]) -> str:
    merged = {"app.kubernetes.io/component": component, **extra}
    extra_dict = " ".join(f"{json.dumps(k)} {json.dumps(v)}" for k, v in merged.items())
    return helm.value(
        f'include "dbt-workbench.selectorLabels" . | fromYaml | merge (dict {extra_dict}) | toJson'
    )


def workflow_template(manifest: Manifest) -> Manifest:
    manifest["metadata"]["name"] = helm.fullname_value()
    manifest["metadata"]["labels"] = _labels("workflow-template")
    spec = manifest["spec"]
    # Pods carry the chart's selector labels: the NetworkPolicy selects them.
    spec["podMetadata"] = {
        "labels": _selector_labels("dbt-run", {}),
        "annotations": helm.value("toJson .Values.podAnnotations"),
    }
    spec["nodeSelector"] = helm.value("toJson .Values.nodeSelector")
    spec["tolerations"] = helm.value("toJson .Values.tolerations")
    spec["affinity"] = helm.value("toJson .Values.affinity")
    spec["imagePullSecrets"] = helm.value("toJson .Values.imagePullSecrets")
    for template in spec["templates"]:
        _artifacts_only_with_a_repository(template)
        container = template["container"]
        container["imagePullPolicy"] = helm.value(".Values.image.pullPolicy | quote")
        container["resources"] = helm.value("toJson .Values.resources")
        if container["args"][0] == "docs":
            # Without a bucket the docs are generated but not published.
            container["args"] = helm.value(
                'include "dbt-workbench.docsArgs" . | fromYamlArray | toJson'
            )
    return manifest


def _artifacts_only_with_a_repository(template: Manifest) -> None:
    """Output artifacts need an artifact repository: without one the executor fails the node
    (it has nowhere to put them), so the chart declares them only when it configures one."""
    outputs = template.get("outputs", {})
    if not outputs.get("artifacts"):
        return
    # A Go-template raw string holds the JSON; escape_argo has already run when markers expand.
    artifacts = json.dumps(outputs["artifacts"], separators=(",", ":"))
    if "`" in artifacts:
        raise ValueError("an output artifact may not contain a backtick")
    outputs["artifacts"] = helm.value(
        f"ternary (`{artifacts}` | fromJsonArray) (list) .Values.artifactRepository.enabled"
        " | toJson"
    )


def cron_workflow(manifest: Manifest, job: Job) -> Manifest:
    cron_values = f".Values.cronWorkflows.{job.values_key}"
    manifest["metadata"]["name"] = helm.fullname_value(job.name)
    manifest["metadata"]["labels"] = _labels("cron-workflow", {"dbt-workbench/job": job.name})
    spec = manifest["spec"]
    defaults = " ".join(json.dumps(schedule) for schedule in job.schedules)
    spec["schedules"] = helm.value(f"{cron_values}.schedules | default (list {defaults}) | toJson")
    fallback = json.dumps(BUSINESS_TIMEZONE)
    spec["timezone"] = helm.value(
        f"{cron_values}.timezone | default .Values.timezone | default {fallback} | quote"
    )
    spec["suspend"] = helm.value(f"{cron_values}.suspend | toJson")
    spec["workflowMetadata"] = {
        "labels": _selector_labels("dbt-run", {"dbt-workbench/job": job.name})
    }
    spec["workflowSpec"]["workflowTemplateRef"]["name"] = helm.fullname_value()
    return manifest
