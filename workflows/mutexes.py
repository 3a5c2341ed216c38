"""The WorkflowTemplate's Argo mutexes, rendered from the mutual-exclusion table.

One mutex per base layer (LOCK_ORDER) plus one for the docs publish, all at workflow level.
Which of them a run really contends for depends on its parameters, and Argo's mutex list has a
fixed length, so each entry's name is an expression: the layer's shared name when the run
touches that layer, else an unused name keyed by the lock and the run's own kind (its layer,
or the docs publish's entrypoint): `<lock>-free-for-<kind>`. The controller keeps every mutex
name it has seen for its whole life (argo-workflows v4.1.2 workflow/sync/sync_manager.go:568-599
adds to syncLockMap, nothing in workflow/sync deletes) and reports each as metric series
(sync_metrics.go:96-135), so the names must be a finite set: a per-run name (the uid) leaked
four locks per run. Two runs share an unused name only when they are of the same kind, and
then they already share a real lock (a layer's own, or the docs lock), so it never makes a run
wait that would not wait anyway. The controller substitutes global parameters into the
workflow-level spec before it tries the locks and acquires all of them or none.

Workflow level, not template level: a workflow waiting for a workflow-level lock stays
Pending and has no startedAt, so the wait does not count against activeDeadlineSeconds; a
template-level wait happens inside a Running workflow and does.
"""

from __future__ import annotations

from hera.workflows.models import Mutex, Synchronization

from workbench.contract import DOCS_LOCK, LAYER_LOCKS, LOCK_ORDER
from workflows import helm
from workflows.layers import DOCS_ENTRYPOINT, PULL_RUN_ENTRYPOINT, RUN_ENTRYPOINT

PREFIX_TEXT = helm.text(helm.FULLNAME)
FREE_INFIX = "-free-for-"


def _quoted(values: list[str]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


def _named_if(condition: str, lock: str) -> str:
    """`<fullname>-<lock>` when the condition holds, else `<fullname>-<lock>-free-for-<kind>`:
    the docs publish's entrypoint name, or the run's layer."""
    free = f"'{lock}{FREE_INFIX}"
    expression = (
        f"({condition}) ? '{lock}' : "
        f"(workflow.mainEntrypoint == '{DOCS_ENTRYPOINT}') ? {free}{DOCS_ENTRYPOINT}' : "
        f"{free}' + workflow.parameters.layer"
    )
    return f"{PREFIX_TEXT}-{{{{={expression}}}}}"


def touches(lock: str) -> str:
    """expr-lang condition: this layer run (dbt-run, or the pull then dbt-run) holds `lock`.
    The pull-then-run Workflow holds its layer's locks while it pulls too: workflow-level
    mutexes are taken for the whole Workflow. `workbench ingest` needs none of them (its own
    per-file advisory locks exclude a concurrent landing of the same file)."""
    layers = [layer for layer, locks in LAYER_LOCKS.items() if lock in locks]
    custom = "workflow.parameters.select != '' or workflow.parameters.exclude != ''"
    return (
        f"workflow.mainEntrypoint in {_quoted([RUN_ENTRYPOINT, PULL_RUN_ENTRYPOINT])} and "
        f"(workflow.parameters.layer in {_quoted(layers)} or {custom})"
    )


def workflow_synchronization() -> Synchronization:
    mutexes = [Mutex(name=_named_if(touches(lock), lock)) for lock in LOCK_ORDER]
    docs = f"workflow.mainEntrypoint == '{DOCS_ENTRYPOINT}'"
    mutexes.append(Mutex(name=_named_if(docs, DOCS_LOCK)))
    return Synchronization(mutexes=mutexes)
