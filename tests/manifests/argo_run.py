"""What a Workflow started from the chart's WorkflowTemplate runs with: its merged spec, its
entry template with the `{{= }}` tags resolved, and so its deadlines and retryStrategy.

No controller can run here; each step follows argo-workflows v4.1.2 (tag commit 16a52d67):

- The Workflow's spec is joined over the template's (workflow/util/merge.go:273-310,
  JoinWorkflowSpec: the Workflow wins field by field, arguments by parameter name).
- The entrypoint runs with the joined arguments (workflow/controller/operator.go:422); the
  template's inputs take them by name (workflow/common/util.go:200-230, ProcessArgs), and
  SubstituteParams resolves the template's `{{= }}` tags with `inputs.parameters.*` in scope
  (util.go:273-330) - retryStrategy and activeDeadlineSeconds included, before the controller
  reads them (operator.go:2446-2457).
- A template's own retryStrategy wins over the Workflow's (operator.go:4475-4480).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any

from tests.manifests.argo_expr import replace_expression_tags


def _parameters_by_name(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in spec.get("arguments", {}).get("parameters", [])}


def _merge(template: Any, workflow: Any) -> Any:
    """Strategic merge of the Workflow over the template: maps merge key by key, anything
    else is the Workflow's when it sets it."""
    if isinstance(template, dict) and isinstance(workflow, dict):
        merged = copy.deepcopy(template)
        for key, value in workflow.items():
            merged[key] = _merge(template[key], value) if key in template else value
        return merged
    return copy.deepcopy(workflow)


def join_spec(workflow_spec: dict[str, Any], template_spec: dict[str, Any]) -> dict[str, Any]:
    """merge.go:273-310 for the fields the chart uses."""
    joined = _merge(template_spec, {k: v for k, v in workflow_spec.items() if k != "arguments"})
    parameters = {**_parameters_by_name(template_spec), **_parameters_by_name(workflow_spec)}
    joined["arguments"] = {"parameters": list(parameters.values())}
    joined.pop("workflowTemplateRef", None)
    return joined


@dataclass(frozen=True)
class Run:
    entrypoint: str
    inputs: dict[str, str]
    workflow_deadline: int | None  # spec.activeDeadlineSeconds, from the Workflow's start
    attempt_deadline: int | None  # the entry template's activeDeadlineSeconds, per attempt
    retry_strategy: dict[str, Any] | None

    def job_seconds(self) -> int:
        """The latest any attempt may still run, counted from the first attempt's start: the
        first attempt stops at its own deadline; a retry at first start + maxDuration
        (operator.go:1089, 1147; workflowpod.go:993-1001) or its own deadline if sooner; all
        within the workflow's deadline (workflowpod.go:449-466)."""
        bounds = [self.attempt_deadline]
        strategy = self.retry_strategy or {}
        if int(strategy.get("limit", "0")) > 0:
            max_duration = strategy.get("backoff", {}).get("maxDuration")
            bounds.append(int(max_duration) if max_duration else None)
        if None in bounds:
            longest = self.workflow_deadline
        else:
            longest = max(b for b in bounds if b is not None)
            if self.workflow_deadline is not None:
                longest = min(longest, self.workflow_deadline)
        if longest is None:
            raise AssertionError("a run without any deadline")
        return longest


def resolve(workflow_spec: dict[str, Any], template: dict[str, Any]) -> Run:
    """The run a Workflow with `workflow_spec` (a workflowTemplateRef) makes of `template`."""
    spec = join_spec(workflow_spec, template["spec"])
    arguments = {p["name"]: p["value"] for p in spec["arguments"]["parameters"]}
    return _resolve_pod(spec, spec["entrypoint"], arguments)


def resolve_steps(workflow_spec: dict[str, Any], template: dict[str, Any]) -> list[Run]:
    """Every pod template the Workflow runs: the entrypoint's, or each task's of an entry DAG
    with the task's arguments, `{{workflow.parameters.*}}` substituted from the Workflow's
    (dag.go executeDAGTask -> executeTemplate with the task's arguments, ProcessArgs)."""
    spec = join_spec(workflow_spec, template["spec"])
    arguments = {p["name"]: p["value"] for p in spec["arguments"]["parameters"]}
    (entry,) = [t for t in spec["templates"] if t["name"] == spec["entrypoint"]]
    if "dag" not in entry:
        return [_resolve_pod(spec, spec["entrypoint"], arguments)]
    runs = []
    for task in entry["dag"]["tasks"]:
        task_arguments = {
            p["name"]: re.sub(
                r"\{\{workflow\.parameters\.([a-z_]+)\}\}",
                lambda m: arguments[m.group(1)],
                p["value"],
            )
            for p in task.get("arguments", {}).get("parameters", [])
        }
        runs.append(_resolve_pod(spec, task["template"], task_arguments))
    return runs


def _resolve_pod(spec: dict[str, Any], entrypoint: str, arguments: dict[str, str]) -> Run:
    (entry,) = [t for t in spec["templates"] if t["name"] == entrypoint]
    declared = entry.get("inputs", {}).get("parameters", [])
    inputs = {p["name"]: arguments[p["name"]] for p in declared}
    scope = {f"inputs.parameters.{name}": value for name, value in inputs.items()}
    resolved = json.loads(replace_expression_tags(json.dumps(entry), scope))
    deadline = resolved.get("activeDeadlineSeconds")
    return Run(
        entrypoint=entrypoint,
        inputs=inputs,
        workflow_deadline=spec.get("activeDeadlineSeconds"),
        attempt_deadline=None if deadline is None else int(deadline),
        retry_strategy=resolved.get("retryStrategy") or spec.get("retryStrategy"),
    )
