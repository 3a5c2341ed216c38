"""One entry point: validate any rendered manifest strictly, whatever its kind.

Every schema comes from a package a registry serves, pinned in uv.lock or
scripts/schema-tools/package-lock.json, so a fresh clone needs nothing beside it:

- Argo Workflows kinds (Workflow, WorkflowTemplate, CronWorkflow, ClusterWorkflowTemplate,
  WorkflowEventBinding): PyPI hera 7.1.0, models of Argo Workflows v4.0.5
  (:mod:`tests.validation.argo`).
- Argo Events EventSource, Sensor: PyPI hera 7.1.0, argo-events v1.9.6 types, corrected
  where they describe protobuf rather than YAML (:mod:`tests.validation.argo`).
- ServiceMonitor, PodMonitor, PrometheusRule: PyPI cloudcoil-models-prometheus-operator
  0.80.1.0, prometheus-operator v0.80.1 (:mod:`tests.validation.prometheus_operator`).
- Argo CD Application: npm @kubernetes-models/argo-cd 4.0.0, Argo CD v3 Go types, made a
  JSON Schema by `make tools` (:mod:`tests.validation.argocd`).
- skaffold.yaml (skaffold/v4beta14): no package carries it; the subset the project uses is
  written in :mod:`tests.validation.skaffold`.
- Core kinds (ConfigMap, NetworkPolicy, Role, RoleBinding, ServiceAccount, Secret, ...):
  PyPI kubernetes-validate 1.37.0, with its Kubernetes 1.33.0 schemas, ``strict=True``.

Unknown fields are rejected everywhere (objects closed, like ``kubeconform -strict``).
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema
import kubernetes_validate

from tests.validation import argo, argocd, prometheus_operator, skaffold

KUBERNETES_VERSION = "1.33.0"


class ManifestInvalid(AssertionError):
    """A manifest does not match its schema; the message lists every violation."""


@functools.cache
def _validator(key: tuple[str, str]) -> jsonschema.protocols.Validator:
    api_version, kind = key
    schema: dict[str, Any]
    if api_version == skaffold.API_VERSION:
        schema = skaffold.SCHEMA
    elif api_version == argo.API_VERSION and kind == "Application":
        schema = argocd.strict_schema()
    elif api_version == argo.API_VERSION:
        schema = argo.strict_schema(kind)
    else:
        schema = prometheus_operator.strict_schema(kind)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema)


def _has_schema(api_version: str, kind: str) -> bool:
    if api_version in (skaffold.API_VERSION, prometheus_operator.API_VERSION):
        return api_version == skaffold.API_VERSION or kind in prometheus_operator.KINDS
    if api_version == argo.API_VERSION:
        return kind in argo.WORKFLOW_KINDS or kind in argo.EVENTS_KINDS or kind == "Application"
    return False


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """For an anyOf/oneOf failure, the errors of the branch that got furthest."""
    if not error.context:
        return [error]
    best = max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return _leaves(best)


def _errors(validator: jsonschema.protocols.Validator, manifest: dict[str, Any]) -> list[str]:
    found = [leaf for error in validator.iter_errors(manifest) for leaf in _leaves(error)]
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message[:300]}"
        for error in sorted(found, key=lambda e: [str(p) for p in e.absolute_path])
    ]


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    """Every violation of ``manifest`` against its kind's strict schema (empty = valid)."""
    api_version = manifest.get("apiVersion", "")
    kind = manifest.get("kind", "")
    if _has_schema(api_version, kind):
        return _errors(_validator((api_version, kind)), manifest)
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        return [f"{'/'.join(str(p) for p in error.path) or '<root>'}: {error.message}"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"no schema known for {api_version} {kind}"]
    return []


def assert_valid(manifest: dict[str, Any]) -> None:
    errors = schema_errors(manifest)
    if errors:
        name = manifest.get("metadata", {}).get("name", "?")
        raise ManifestInvalid(
            f"{manifest.get('kind')} {name} is invalid:\n  " + "\n  ".join(errors)
        )
