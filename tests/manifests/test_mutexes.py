"""Two runs that touch a layer never run at once: the Argo mutexes and the runtime's advisory
locks come from one table, and the rendered mutexes exclude exactly what the locks exclude.

No Argo controller can run here. The rendered mutex names are resolved as argo-workflows
v4.1.2 does for a workflow-level `synchronization`: setGlobalParameters puts
workflow.mainEntrypoint, workflow.uid and workflow.parameters.<name> in scope
(workflow/controller/operator.go:680, 682, 710), substituteGlobalVariables replaces the
`{{= }}` tags of the workflow-level spec (operator.go:4542, 4694-4716) before the lock is tried
(operator.go:285-321), and TryAcquire takes every mutex of the list or none
(workflow/sync/sync_manager.go:607-676: `case allAcquirable` at 637, else only waiting at 665).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.manifests import chart
from tests.manifests.argo_expr import replace_expression_tags
from workbench import contract
from workbench.run import lock
from workflows import layers
from workflows.mutexes import FREE_INFIX

PREFIX = "wb-dbt-workbench-"


def _template(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return chart.named(docs, "WorkflowTemplate", "wb-dbt-workbench")


def _defaults(template: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in template["spec"]["arguments"]["parameters"]}


def _held(
    template: dict[str, Any], uid: str, entrypoint: str, parameters: dict[str, str]
) -> set[str]:
    """The mutex names a Workflow from the template asks for, as the controller resolves them."""
    scope = {
        "workflow.mainEntrypoint": entrypoint,
        "workflow.uid": uid,
        **{f"workflow.parameters.{k}": v for k, v in {**_defaults(template), **parameters}.items()},
    }
    names = [m["name"] for m in template["spec"]["synchronization"]["mutexes"]]
    return {replace_expression_tags(name, scope) for name in names}


def _runtime_locks(layer: str, select: str = "", exclude: str = "") -> set[str]:
    return set(lock.locks_for(layer, custom_selection=bool(select or exclude)))


# (entrypoint, parameters) of every kind of run.
RUNS = [
    *[(layers.RUN_ENTRYPOINT, {"layer": layer}) for layer in contract.LAYERS],
    (layers.RUN_ENTRYPOINT, {"layer": "silver", "select": "silver_products+"}),
    (layers.RUN_ENTRYPOINT, {"layer": "bronze", "exclude": "bronze_products"}),
    (layers.RUN_ENTRYPOINT, {"layer": "maintenance", "select": "gold_x"}),
    (layers.DOCS_ENTRYPOINT, {}),
    # The daily bronze run with pulls: it holds bronze's mutex (pull included).
    (layers.PULL_RUN_ENTRYPOINT, {"layer": "bronze"}),
]


@pytest.mark.parametrize(("entrypoint", "parameters"), RUNS, ids=lambda r: str(r))
def test_a_run_holds_the_mutexes_of_exactly_the_layers_its_advisory_locks_cover(
    default_docs: list[dict[str, Any]], entrypoint: str, parameters: dict[str, str]
) -> None:
    template = _template(default_docs)
    names = _held(template, "uid-1", entrypoint, parameters)
    shared = {name.removeprefix(PREFIX) for name in names if FREE_INFIX not in name}
    if entrypoint == layers.DOCS_ENTRYPOINT:
        assert shared == {contract.DOCS_LOCK}
    else:
        assert shared == _runtime_locks(**parameters)
    assert len(names) == len(template["spec"]["synchronization"]["mutexes"])  # no duplicates
    assert all(name.startswith(PREFIX) and "/" not in name for name in names)  # lock_name.go:96


def test_two_runs_exclude_each_other_exactly_when_their_locks_intersect(
    default_docs: list[dict[str, Any]],
) -> None:
    template = _template(default_docs)
    for a, b in itertools.product(enumerate(RUNS), repeat=2):
        (i, (entry_a, params_a)), (j, (entry_b, params_b)) = a, b
        held_a = _held(template, f"uid-a{i}", entry_a, params_a)
        held_b = _held(template, f"uid-b{j}", entry_b, params_b)
        docs_a, docs_b = entry_a == layers.DOCS_ENTRYPOINT, entry_b == layers.DOCS_ENTRYPOINT
        if docs_a or docs_b:
            expected = docs_a and docs_b
        else:
            expected = bool(_runtime_locks(**params_a) & _runtime_locks(**params_b))
        assert bool(held_a & held_b) is expected, (params_a, params_b)


def test_maintenance_and_the_full_refresh_exclude_the_hourly_silver_run(
    all_crons_docs: list[dict[str, Any]],
) -> None:
    """The finding: at 03:15 silver started beside maintenance (its mutex was keyed by the layer
    string). Resolved from the CronWorkflows as rendered: the cron's arguments and entrypoint
    override the template's (the Workflow's spec is merged over the template)."""
    template = _template(all_crons_docs)
    held = {}
    for cron in chart.by_kind(all_crons_docs, "CronWorkflow"):
        spec = cron["spec"]["workflowSpec"]
        entrypoint = spec.get("entrypoint", template["spec"]["entrypoint"])
        parameters = {
            p["name"]: p["value"] for p in spec.get("arguments", {}).get("parameters", [])
        }
        name = cron["metadata"]["name"].removeprefix(PREFIX)
        held[name] = _held(template, f"uid-{name}", entrypoint, parameters)
    assert held["maintenance"] & held["silver"] == {PREFIX + "silver"}
    assert held["maintenance"] & held["gold"] == {PREFIX + "gold"}
    assert held["full-refresh"] & held["bronze"] == {PREFIX + "bronze"}
    assert held["full-refresh"] & held["maintenance"] == {
        PREFIX + p for p in ("silver", "gold", "platinum")
    }
    assert not held["docs"] & held["full-refresh"]
    assert not held["silver"] & held["gold"]


def test_the_mutexes_are_workflow_level_so_the_wait_is_not_on_the_deadline_clock(
    default_docs: list[dict[str, Any]],
) -> None:
    """A workflow that has not got its workflow-level lock stays Pending (operator.go:285-321);
    startedAt is only set for a phase other than Pending (operator.go:2799-2800), and the
    deadline is startedAt + activeDeadlineSeconds, none without startedAt (operator.go:664-674).
    A template-level lock is tried in executeTemplate (operator.go:2324-2345) of a Running
    workflow, whose deadline is already running."""
    spec = _template(default_docs)["spec"]
    assert len(spec["synchronization"]["mutexes"]) == len(contract.LOCK_ORDER) + 1
    assert all("synchronization" not in step for step in spec["templates"])


def test_unused_mutex_names_are_a_finite_set_shared_only_by_runs_that_already_exclude(
    default_docs: list[dict[str, Any]],
) -> None:
    """Issue 19 finding 7. The controller never forgets a mutex: prepAcquire adds every new
    name to syncLockMap (workflow/sync/sync_manager.go:568-599) and nothing in workflow/sync
    deletes one, and each becomes lock gauge series (sync_metrics.go:96-135). With the
    workflow's uid in the unused names every run leaked four. Now a name depends only on the
    run's parameters, so all runs ever made use at most one name per (lock, kind of run), and
    the pairwise test above still holds: two runs share a name iff their locks intersect."""
    template = _template(default_docs)
    every_name: set[str] = set()
    for entrypoint, parameters in RUNS:
        first = _held(template, "uid-1", entrypoint, parameters)
        assert first == _held(template, "uid-2", entrypoint, parameters), parameters
        assert not any("uid" in name for name in first)
        every_name |= first
    kinds = len(contract.LAYERS) + 1  # each layer, and the docs publish
    locks = len(contract.LOCK_ORDER) + 1
    assert len(every_name) <= locks + locks * kinds
    unused = {name for name in every_name if FREE_INFIX in name}
    assert {name.split(FREE_INFIX)[1] for name in unused} <= {
        *contract.LAYERS,
        layers.DOCS_ENTRYPOINT,
    }
