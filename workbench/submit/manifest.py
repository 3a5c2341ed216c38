"""The Workflow object `workbench submit` creates: a reference to the template plus parameters."""

from __future__ import annotations

from typing import Any

from workbench.contract import run_arguments
from workbench.params import RunParams

ARGO_GROUP = "argoproj.io"
ARGO_VERSION = "v1alpha1"
WORKFLOWS_PLURAL = "workflows"
DEFAULT_TEMPLATE = "dbt-workbench"


def workflow_manifest(template: str, params: RunParams) -> dict[str, Any]:
    """A Workflow running ``template`` for ``params`` (already validated)."""
    return {
        "apiVersion": f"{ARGO_GROUP}/{ARGO_VERSION}",
        "kind": "Workflow",
        "metadata": {
            # Kubernetes appends 5 random characters; names stay within 63.
            "generateName": f"{template[:40]}-{params.layer}-",
            "labels": {
                "dbt-workbench/layer": params.layer,
                "dbt-workbench/submitted-by": "workbench-submit",
            },
        },
        "spec": {
            "workflowTemplateRef": {"name": template},
            "arguments": {
                "parameters": [
                    {"name": name, "value": value}
                    for name, value in run_arguments(
                        params.layer,
                        select=params.select or "",
                        exclude=params.exclude or "",
                        full_refresh=params.full_refresh,
                    ).items()
                ]
            },
        },
    }
