"""A pydantic model's JSON Schema, as strict as the validator needs.

Model packages (Hera, cloudcoil) describe each optional field as ``anyOf: [X, null]`` and
leave objects open (pydantic ignores unknown keys by default). Kubernetes never needs an
explicit ``null`` in a manifest, so the null branches are dropped, then every object that
lists its properties is closed (:func:`tests.validation.strict.strict_copy`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tests.validation.strict import strict_copy

_NULL = {"type": "null"}


def _drop_null_branches(node: Any) -> Any:
    if isinstance(node, list):
        return [_drop_null_branches(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _drop_null_branches(value) for key, value in node.items()}
    branches = result.get("anyOf")
    if isinstance(branches, list) and _NULL in branches:
        kept = [branch for branch in branches if branch != _NULL]
        del result["anyOf"]
        if len(kept) == 1 and isinstance(kept[0], dict):
            result = {**kept[0], **result}
        else:
            result["anyOf"] = kept
    if result.get("default", ...) is None:
        del result["default"]
    return result


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema (aliases as field names), null branches dropped, not closed."""
    schema: dict[str, Any] = _drop_null_branches(model.model_json_schema(by_alias=True))
    return schema


def strict_model_schema(model: type[BaseModel]) -> dict[str, Any]:
    return strict_copy(model_schema(model))
