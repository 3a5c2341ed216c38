"""Every run gets its layer's deadline and retry limit from the layer table, whatever started it.

Findings 4 and 11 of issue 19. Before, the per-job deadline and retryStrategy were set on the
CronWorkflows only: a Workflow from the webhook, `argo submit --from workflowtemplate` or
`workbench submit` got the template's 6 h and its retries for every layer (argo-workflows
v4.1.2 workflow/util/merge.go:273-310 joins the Workflow over the template, nothing else), and a
controller with `templateReferencing: Strict|Secure` refused every scheduled run, because a
Workflow may override only the fields allow-listed in workflow/util/merge.go:21-36
(ValidateUserOverrides, merge.go:99-128, called from operator.go:4488-4493) and
`retryStrategy` is not one of them.

Each run below is resolved as the controller does (tests.manifests.argo_run) from the rendered
chart, for every layer on every path.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.manifests import chart
from tests.manifests.argo_events import trigger_workflow
from tests.manifests.argo_run import Run, resolve
from workbench.contract import LAYERS
from workbench.params import RunParams
from workbench.submit.manifest import workflow_manifest
from workflows.layers import (
    DOCS_ENTRYPOINT,
    ON_DEMAND_RETRY_LIMIT,
    ON_DEMAND_TIMEOUT_SECONDS,
    job_of_entrypoint,
    job_of_layer,
)

TEMPLATE = "wb-dbt-workbench"
# merge.go:21-36, allowedUserOverrideFields, by their JSON names.
STRICT_ALLOWED_FIELDS = frozenset(
    {"arguments", "entrypoint", "shutdown", "suspend", "activeDeadlineSeconds", "priority",
     "ttlStrategy", "podGC", "volumeClaimGC", "archiveLogs", "workflowMetadata",
     "workflowTemplateRef", "metrics", "artifactGC"}
)  # fmt: skip


@pytest.fixture(scope="module")
def docs() -> list[dict[str, Any]]:
    extra = (
        *("--set", "events.enabled=true"),
        *("--set", "events.webhook.authSecret.name=token"),
        *("--set", "events.webhook.allowFullRefresh=true"),
        *("--set", "cronWorkflows.docs.enabled=true", "--set", "docs.bucket=docs-bucket"),
    )
    return chart.documents(chart.template(extra=extra))


def _template(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return chart.named(docs, "WorkflowTemplate", TEMPLATE)


def _webhook(docs: list[dict[str, Any]], body: dict[str, str]) -> dict[str, Any]:
    """The Workflow spec the Sensor submits for a POST with this body (argo_events)."""
    (sensor,) = chart.by_kind(docs, "Sensor")
    (trigger,) = sensor["spec"]["triggers"]
    event = {"header": {}, "body": body}
    spec: dict[str, Any] = trigger_workflow(trigger, {"run-request": event}).workflow["spec"]
    return spec


def _submit_from_template(parameters: dict[str, str]) -> dict[str, Any]:
    """`argo submit --from workflowtemplate/<name> -p k=v`: a Workflow with only the reference
    (workflow/common/convert.go:59-80) and the -p parameters (workflow/util/util.go:247-300)."""
    return {
        "workflowTemplateRef": {"name": TEMPLATE},
        "arguments": {"parameters": [{"name": k, "value": v} for k, v in parameters.items()]},
    }


def _workbench_submit(layer: str, full_refresh: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = workflow_manifest(TEMPLATE, RunParams(layer, full_refresh=full_refresh))[
        "spec"
    ]
    return spec


def _crons(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        cron["metadata"]["name"].removeprefix(f"{TEMPLATE}-"): cron["spec"]["workflowSpec"]
        for cron in chart.by_kind(docs, "CronWorkflow")
    }


def _paths(docs: list[dict[str, Any]], layer: str) -> dict[str, dict[str, Any]]:
    """The Workflow spec each way of starting a run of `layer` creates."""
    paths = {
        "webhook": _webhook(docs, {"layer": layer}),
        "argo submit --from": _submit_from_template({"layer": layer}),
        "workbench submit": _workbench_submit(layer),
    }
    job = job_of_layer()[layer]
    crons = _crons(docs)
    if job.name in crons:
        paths["cron"] = crons[job.name]
    return paths


def _assert_budget(run: Run, seconds: int, limit: int, where: str) -> None:
    assert run.attempt_deadline == seconds, where
    assert run.job_seconds() == seconds, where
    assert run.retry_strategy is not None, where
    assert int(run.retry_strategy["limit"]) == limit, where
    assert int(run.retry_strategy["backoff"]["maxDuration"]) == seconds, where


@pytest.mark.parametrize("layer", LAYERS)
def test_every_path_gets_the_layers_deadline_and_retries(
    docs: list[dict[str, Any]], layer: str
) -> None:
    """A webhook silver run that hangs is stopped at silver's 45 min, not the template's 6 h."""
    job = job_of_layer()[layer]
    paths = _paths(docs, layer)
    assert set(paths) >= {"webhook", "argo submit --from", "workbench submit"}
    for where, spec in paths.items():
        run = resolve(spec, _template(docs))
        assert run.inputs["layer"] == layer, where
        _assert_budget(run, job.timeout_seconds, job.retry_limit, f"{layer} via {where}")


def test_every_cron_is_one_of_the_paths(docs: list[dict[str, Any]]) -> None:
    crons = _crons(docs)
    covered = {job_of_layer()[layer].name for layer in LAYERS} & set(crons)
    assert covered | {job_of_entrypoint(DOCS_ENTRYPOINT).name} == set(crons)


def test_the_docs_publish_gets_its_own_budget(docs: list[dict[str, Any]]) -> None:
    job = job_of_entrypoint(DOCS_ENTRYPOINT)
    from_template = {**_submit_from_template({}), "entrypoint": job.entrypoint}
    for where, spec in {
        "cron": _crons(docs)[job.name],
        "argo submit --entrypoint": from_template,
    }.items():
        run = resolve(spec, _template(docs))
        assert run.entrypoint == DOCS_ENTRYPOINT
        _assert_budget(run, job.timeout_seconds, job.retry_limit, where)


def test_an_on_demand_full_refresh_of_everything_keeps_its_six_hours(
    docs: list[dict[str, Any]],
) -> None:
    """The per-layer budget is not one lowered number: `all` with --full-refresh, from the
    webhook or `workbench submit`, still gets the weekly full refresh's time."""
    job = job_of_layer()["all"]
    assert job.full_refresh and job.timeout_seconds == ON_DEMAND_TIMEOUT_SECONDS
    specs = {
        "webhook": _webhook(docs, {"layer": "all", "full_refresh": "true"}),
        "workbench submit": _workbench_submit("all", full_refresh=True),
    }
    for where, spec in specs.items():
        run = resolve(spec, _template(docs))
        assert run.inputs["full_refresh"] == "true", where
        _assert_budget(run, job.timeout_seconds, job.retry_limit, where)


@pytest.mark.parametrize("selection", [{"select": "silver_products+"}, {"exclude": "gold_x"}])
def test_a_custom_selection_gets_the_on_demand_budget(
    docs: list[dict[str, Any]], selection: dict[str, str]
) -> None:
    """--select/--exclude replace the layer's selector: no row describes the run."""
    spec = _submit_from_template({"layer": "silver", **selection})
    run = resolve(spec, _template(docs))
    _assert_budget(run, ON_DEMAND_TIMEOUT_SECONDS, ON_DEMAND_RETRY_LIMIT, str(selection))


def test_no_path_sets_a_field_a_strict_controller_refuses(docs: list[dict[str, Any]]) -> None:
    """`templateReferencing: Strict|Secure`: a Workflow through workflowTemplateRef may set only
    merge.go:21-36's fields (ValidateUserOverrides, merge.go:99-128); anything else marks every
    such Workflow Error (operator.go:4488-4493). The budgets live in the template instead."""
    specs = {f"cron {name}": spec for name, spec in _crons(docs).items()}
    for layer in LAYERS:
        specs.update({f"{w} {layer}": s for w, s in _paths(docs, layer).items()})
    assert len(specs) > len(LAYERS) * 3
    for where, spec in specs.items():
        refused = set(spec) - STRICT_ALLOWED_FIELDS
        assert not refused, (where, sorted(refused))
    assert "retryStrategy" not in _template(docs)["spec"]  # one place: the pod templates
