"""One entry point: validate any rendered manifest strictly, whatever its kind.

- Argo Workflows / Argo Events kinds: the projects' JSON Schemas (definition per kind).
- Prometheus Operator kinds and Argo CD Application: their CRDs' openAPIV3Schema.
- Skaffold config: the Skaffold JSON Schema.
- Everything else (core kinds): ``kubernetes-validate --strict``.
All custom schemas are made strict first (see :mod:`tests.validation.strict`).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml

from tests.validation import schema_dir
from tests.validation.strict import strict_copy

KUBERNETES_VERSION = "1.33.0"
ARGO_WORKFLOW_KINDS = {
    "Workflow",
    "WorkflowTemplate",
    "CronWorkflow",
    "ClusterWorkflowTemplate",
    "WorkflowEventBinding",
}
ARGO_EVENTS_KINDS = {"EventSource", "Sensor", "EventBus"}


class ManifestInvalid(AssertionError):
    """A manifest does not match its schema; the message lists every violation."""


def _load_json(name: str) -> dict[str, Any]:
    path: Path = schema_dir.schemas_dir() / name
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def _definition_validator(file_name: str, definition: str) -> jsonschema.protocols.Validator:
    document = strict_copy(_load_json(file_name))
    schema = {
        "$schema": document.get("$schema", "https://json-schema.org/draft/2020-12/schema"),
        "definitions": document["definitions"],
        "$ref": f"#/definitions/{definition}",
    }
    if file_name == schema_dir.ARGO_EVENTS:
        # Its $schema is the unversioned draft URI; the definitions are draft-07 compatible.
        schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


@functools.cache
def _crd_validator(file_name: str, kind: str) -> jsonschema.protocols.Validator:
    path = schema_dir.schemas_dir() / file_name
    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    if crd["spec"]["names"]["kind"] != kind:
        raise ValueError(f"{file_name} defines {crd['spec']['names']['kind']}, not {kind}")
    served = [v for v in crd["spec"]["versions"] if v.get("served") and v.get("storage")]
    schema = strict_copy(served[0]["schema"]["openAPIV3Schema"])
    return jsonschema.Draft7Validator(schema)


@functools.cache
def _skaffold_validator() -> jsonschema.protocols.Validator:
    schema = strict_copy(_load_json(schema_dir.SKAFFOLD))
    return jsonschema.Draft7Validator(schema)


def _errors(validator: jsonschema.protocols.Validator, manifest: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    ]


def schema_errors(manifest: dict[str, Any]) -> list[str]:
    """Every violation of ``manifest`` against its kind's strict schema (empty = valid)."""
    api_version = manifest.get("apiVersion", "")
    kind = manifest.get("kind", "")
    if api_version == "skaffold/v4beta14":
        return _errors(_skaffold_validator(), manifest)
    if api_version == "argoproj.io/v1alpha1" and kind in ARGO_WORKFLOW_KINDS:
        definition = f"io.argoproj.workflow.v1alpha1.{kind}"
        return _errors(_definition_validator(schema_dir.ARGO_WORKFLOWS, definition), manifest)
    if api_version == "argoproj.io/v1alpha1" and kind in ARGO_EVENTS_KINDS:
        definition = f"io.argoproj.events.v1alpha1.{kind}"
        return _errors(_definition_validator(schema_dir.ARGO_EVENTS, definition), manifest)
    if api_version == "argoproj.io/v1alpha1" and kind == "Application":
        return _errors(_crd_validator(schema_dir.ARGOCD_APPLICATION_CRD, kind), manifest)
    if api_version == "monitoring.coreos.com/v1" and kind in schema_dir.PROMETHEUS_OPERATOR_CRDS:
        crd_file = schema_dir.PROMETHEUS_OPERATOR_CRDS[kind]
        return _errors(_crd_validator(crd_file, kind), manifest)
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
