"""The one place where built objects get Helm-valued fields that Hera cannot carry.

Hera types some fields (integers, enums, maps, name lengths), so a marker string cannot
go there while building. Each function below takes the dict Hera built and sets those
fields to markers; everything else Helm-valued is set directly in the Hera code.
"""

from __future__ import annotations

import json
from typing import Any

from workbench.contract import (
    BUSINESS_TIMEZONE,
    GDRIVE_CREDENTIALS_FILE_NAME,
    GDRIVE_CREDENTIALS_MOUNT_DIR,
    PULL_STEP,
)
from workflows import helm
from workflows.layers import PULL_RUN_ENTRYPOINT, Job

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
        if "container" not in template:
            continue  # the pull-then-run DAG: its tasks run the pod templates below
        if template["name"] == PULL_STEP:
            _pull_volumes(template)
        container = template["container"]
        container["imagePullPolicy"] = helm.value(".Values.image.pullPolicy | quote")
        container["resources"] = helm.value("toJson .Values.resources")
        if container["args"][0] == "docs":
            # Without a bucket the docs are generated but not published.
            container["args"] = helm.value(
                'include "dbt-workbench.docsArgs" . | fromYamlArray | toJson'
            )
    return manifest


class _Expr(str):
    """A Go template expression inside :func:`_go` data, printed as is."""


def _go(data: Any) -> str:
    """Data as a Go template expression building it (sprig dict/list), so that Helm values
    can sit inside: toJson prints it back as the same JSON."""
    if isinstance(data, _Expr):
        return f"({data})"
    if isinstance(data, bool | int | str):
        return json.dumps(data)
    if isinstance(data, dict):
        pairs = " ".join(f"{json.dumps(key)} {_go(value)}" for key, value in data.items())
        return f"(dict {pairs})"
    if isinstance(data, list):
        return "(list " + " ".join(_go(item) for item in data) + ")" if data else "(list)"
    raise TypeError(f"no Go template form for {data!r}")


# The Drive key: a Secret's key as a file, only when values name the Secret.
GDRIVE_VOLUME = "gdrive-credentials"
_DRIVE_VALUES = ".Values.ingest.gdrive.credentialsSecret"


def _pull_volumes(template: Manifest) -> None:
    """The pull's sources ConfigMap is the release's; the Drive key Secret is mounted only
    when `ingest.gdrive.credentialsSecret.name` is set."""
    for volume in template["volumes"]:
        if "configMap" in volume:
            volume["configMap"]["name"] = _Expr(f'printf "%s-ingest-sources" ({helm.FULLNAME})')
    drive_volume = {
        "name": GDRIVE_VOLUME,
        "secret": {
            "secretName": _Expr(f"{_DRIVE_VALUES}.name"),
            "items": [{"key": _Expr(f"{_DRIVE_VALUES}.key"), "path": GDRIVE_CREDENTIALS_FILE_NAME}],
        },
    }
    drive_mount = {
        "name": GDRIVE_VOLUME,
        "mountPath": GDRIVE_CREDENTIALS_MOUNT_DIR,
        "readOnly": True,
    }
    configured = f"not (empty {_DRIVE_VALUES}.name)"
    container = template["container"]
    for key, holder, extra in (
        ("volumes", template, drive_volume),
        ("volumeMounts", container, drive_mount),
    ):
        holder[key] = helm.value(
            f"concat {_go(holder[key])} (ternary {_go([extra])} (list) ({configured})) | toJson"
        )


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
    if job.pulls_first:
        # Only with pulls configured: without, the CronWorkflow renders as it always did.
        spec["workflowSpec"][helm.when("not (empty .Values.ingest.pulls)")] = {
            "entrypoint": PULL_RUN_ENTRYPOINT
        }
    return manifest
