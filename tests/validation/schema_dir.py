"""Where the pinned official schemas live: $WORKBENCH_SCHEMAS_DIR, else ../shared/schemas."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "WORKBENCH_SCHEMAS_DIR"

ARGO_WORKFLOWS = "argo-workflows-v4.1.2.schema.json"
ARGO_EVENTS = "argo-events-v1.9.11.schema.json"
SKAFFOLD = "skaffold-v4beta14.schema.json"
ARGOCD_APPLICATION_CRD = "argocd-application-crd.yaml"
PROMETHEUS_OPERATOR_CRDS = {
    "ServiceMonitor": "monitoring.coreos.com_servicemonitors.yaml",
    "PodMonitor": "monitoring.coreos.com_podmonitors.yaml",
    "PrometheusRule": "monitoring.coreos.com_prometheusrules.yaml",
}


class SchemasMissing(FileNotFoundError):
    """The schema directory or one of its files is not there."""


def schemas_dir(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    configured = env.get(ENV_VAR)
    directory = Path(configured) if configured else REPO_ROOT.parent / "shared" / "schemas"
    if not (directory / ARGO_WORKFLOWS).is_file():
        raise SchemasMissing(
            f"official schemas not found in {directory}: set {ENV_VAR} to a directory holding "
            f"{ARGO_WORKFLOWS} and the other pinned files listed in its README.md "
            "(download them from the repositories and commits named there, checking SHA256SUMS)"
        )
    return directory
