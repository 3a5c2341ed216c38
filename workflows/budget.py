"""Each run's time and retry budget, read from the layer table by the pod template itself.

Whatever starts a run (a CronWorkflow, the webhook Sensor, `argo submit --from
workflowtemplate/...`, `workbench submit`), it passes only parameters; the `dbt-run` template
turns its `layer` input into the row's per-attempt `activeDeadlineSeconds`, retry `limit` and
`backoff.maxDuration`. The workflow-level `activeDeadlineSeconds` is an integer (it cannot
depend on a parameter), so it stays the longest timeout as an outer bound.

How the two deadlines combine (argo-workflows v4.1.2): the template's activeDeadlineSeconds
bounds one attempt from its own start (workflowpod.go:449-466, 940-959); `maxDuration` counts
from the FIRST attempt's start, refuses a retry whose backoff would end after it
(operator.go:1080-1137) and becomes each retry pod's deadline (operator.go:1147,
workflowpod.go:993-1001). With both equal to the row's timeout no attempt, first or retried,
runs past first start + timeout.

The template resolves `{{= }}` tags with its inputs in scope (common.ProcessArgs ->
SubstituteParams, workflow/common/util.go:200-330), before the controller reads the
retryStrategy (operator.go:2446-2457) or builds the pod.
"""

from __future__ import annotations

from collections.abc import Callable

from workflows.layers import (
    ON_DEMAND_RETRY_LIMIT,
    ON_DEMAND_TIMEOUT_SECONDS,
    Job,
    job_of_layer,
)

CUSTOM_SELECTION = "inputs.parameters.select != '' or inputs.parameters.exclude != ''"


def by_layer(value: Callable[[Job], int], custom: int) -> str:
    """An Argo expression: `value(row)` of the run's layer; `custom` for a custom selection
    (the layer's selector is replaced) or a layer without a row."""
    chain = [f"(inputs.parameters.layer == '{layer}') ? {value(job)}" for layer, job in
             job_of_layer().items()]  # fmt: skip
    return "{{=" + " : ".join([f"({CUSTOM_SELECTION}) ? {custom}", *chain, str(custom)]) + "}}"


def attempt_deadline() -> str:
    return by_layer(lambda job: job.timeout_seconds, ON_DEMAND_TIMEOUT_SECONDS)


def retry_limit() -> str:
    return by_layer(lambda job: job.retry_limit, ON_DEMAND_RETRY_LIMIT)
