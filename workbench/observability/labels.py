"""The Argo labels a pod receives through the downward API (absent on a laptop)."""

from __future__ import annotations

import os
from collections.abc import Mapping

LABEL_ENV = {
    "workflow_name": "WORKFLOW_NAME",
    "workflow_uid": "WORKFLOW_UID",
    "pod_name": "POD_NAME",
    "pod_namespace": "POD_NAMESPACE",
}


def argo_labels(env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    """Every label key, None when the variable is unset or empty."""
    env = os.environ if env is None else env
    return {label: (env.get(var) or None) for label, var in LABEL_ENV.items()}
