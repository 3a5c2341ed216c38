"""Make a schema reject unknown fields, like `kubeconform -strict`.

The official schemas never set ``additionalProperties: false``, so a misspelled or removed
field (Argo v4 dropped CronWorkflow ``schedule`` and singular ``mutex``) would pass. Every
object schema that lists ``properties`` gets ``additionalProperties: false`` unless it is
marked ``x-kubernetes-preserve-unknown-fields`` or already says what extra keys may hold.
Free-form fields (Argo ``plugin`` and ``withItems`` items, Argo Events trigger
``resource``) are schemas without ``properties``, so they stay open: that is the whole
allow-list. The walk follows schema keywords only, so a *property* named "properties" or
"allOf" (as in JSONSchemaProps) is never mistaken for a keyword.
"""

from __future__ import annotations

import copy
from typing import Any

_SCHEMA_MAPS = ("properties", "patternProperties", "definitions", "$defs", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_VALUES = ("items", "additionalItems", "additionalProperties", "not", "if", "then", "else")


def _tighten(node: Any) -> None:
    if isinstance(node, list):  # draft-04 style tuple `items`
        for item in node:
            _tighten(item)
        return
    if not isinstance(node, dict):
        return
    if (
        isinstance(node.get("properties"), dict)
        and "additionalProperties" not in node
        and not node.get("x-kubernetes-preserve-unknown-fields")
    ):
        node["additionalProperties"] = False
    for key in _SCHEMA_MAPS:
        if isinstance(node.get(key), dict):
            for child in node[key].values():
                _tighten(child)
    for key in _SCHEMA_LISTS:
        for child in node.get(key) or []:
            _tighten(child)
    for key in _SCHEMA_VALUES:
        if key in node:
            _tighten(node[key])


def strict_copy(schema: dict[str, Any]) -> dict[str, Any]:
    tightened = copy.deepcopy(schema)
    _tighten(tightened)
    return tightened
