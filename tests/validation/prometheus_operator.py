"""Strict schemas for Prometheus Operator kinds, from cloudcoil's generated models.

PyPI ``cloudcoil-models-prometheus-operator`` 0.80.1.0 (pinned in uv.lock): models generated
from the CRDs of prometheus-operator v0.80.1 (its version is the operator's, plus one digit
for the package's own revisions). Newer releases (0.93.1.1 carries v0.93.1) require Python
>= 3.14, which this project does not run on yet, so the ServiceMonitor, PodMonitor and
PrometheusRule fields are those of v0.80.1; the chart uses none added since.
"""

from __future__ import annotations

import functools
from typing import Any

from cloudcoil.models.prometheus_operator import v1
from pydantic import BaseModel

from tests.validation.pydantic_schema import model_schema
from tests.validation.strict import strict_copy

API_VERSION = "monitoring.coreos.com/v1"
PACKAGE = ("cloudcoil-models-prometheus-operator", "0.80.1.0")  # tested against the install
KINDS: dict[str, type[BaseModel]] = {
    "ServiceMonitor": v1.ServiceMonitor,
    "PodMonitor": v1.PodMonitor,
    "PrometheusRule": v1.PrometheusRule,
}


@functools.cache
def strict_schema(kind: str) -> dict[str, Any]:
    schema = model_schema(KINDS[kind])
    schema["properties"]["apiVersion"] = {"const": API_VERSION}
    schema["properties"]["kind"] = {"const": kind}
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    return strict_copy(schema)
