"""Argo custom metrics of a dbt Workbench run, emitted once per Workflow.

At workflow level the controller computes `spec.metrics` once, when the Workflow completes,
with `{{workflow.status}}` and `{{workflow.duration}}` set (argo-workflows v4.1.2
workflow/controller/operator.go:580-584, 2826). Template-level metrics would be emitted for
every attempt and again for the retry node when the step ends (operator.go:2476-2497): a
"runs by status" counter there counts failed attempts that a retry healed. Per-attempt
outcomes are the runtime's (each attempt pushes dbt_workbench_run_exit_code).

The controller exports a custom metric as `argo_workflows_<name>`, counters without a
`_total` suffix (util/telemetry/exporter_prometheus.go:42-47, the namespace from
workflow/controller/controller.go:253-255): EXPORTED_PREFIX.
"""

from __future__ import annotations

from hera.workflows import Counter, Gauge, Label

from workflows.layers import DOCS_ENTRYPOINT

EXPORTED_PREFIX = "argo_workflows_"
RUNS = "dbt_workbench_workflow_runs"
DURATION = "dbt_workbench_workflow_duration_seconds"

# The docs publish runs with the template's default layer parameter; label it "docs".
LAYER_LABEL = (
    f"{{{{=workflow.mainEntrypoint == '{DOCS_ENTRYPOINT}' ? 'docs' : workflow.parameters.layer}}}}"
)


def workflow_metrics() -> list[Gauge | Counter]:
    labels = [
        Label(key="layer", value=LAYER_LABEL),
        Label(key="status", value="{{workflow.status}}"),
    ]
    return [
        Counter(
            name=RUNS,
            help="Finished dbt Workbench Workflows by layer and final status (retries included).",
            labels=labels,
            value="1",
        ),
        Gauge(
            name=DURATION,
            help="Wall-clock seconds of the last finished dbt Workbench Workflow, by layer.",
            labels=labels,
            realtime=False,
            value="{{workflow.duration}}",
        ),
    ]
