"""Every workflow container states its command, so the controller never asks a registry for it."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.manifests import chart

DOCKERFILE = chart.REPO_ROOT / "images" / "dbt-runtime" / "Dockerfile"


def _image_entrypoint() -> list[str]:
    (line,) = [
        line for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if re.match(r"ENTRYPOINT\s+\[", line)
    ]  # fmt: skip
    entrypoint: list[str] = json.loads(line.split(None, 1)[1])
    return entrypoint


def test_every_container_has_the_image_entrypoint_as_command(
    rendered_scenarios: dict[str, list[dict[str, Any]]],
) -> None:
    """An empty `command` sends the controller to the registry before the pod exists.

    argo-workflows v4.1.2 workflow/controller/workflowpod.go:756-766: for every non-Argo
    container with `len(c.Command) == 0` the controller calls `lookupImage` with the
    workflow's ServiceAccount and imagePullSecrets and, on error, fails pod creation with
    "failed to look-up entrypoint/cmd for image" (line 762); only then is the emissary
    prepended to `c.Command` (line 769). With the command set, no lookup happens.
    """
    entrypoint = _image_entrypoint()
    assert entrypoint == ["workbench"]
    seen = 0
    for docs in rendered_scenarios.values():
        (template,) = chart.by_kind(docs, "WorkflowTemplate")
        for step in template["spec"]["templates"]:
            if "container" in step:
                assert step["container"].get("command") == entrypoint, step["name"]
                seen += 1
    assert seen >= 2 * len(rendered_scenarios)
