"""The WorkflowTemplate's Argo mutexes, rendered from the mutual-exclusion table.

One mutex per base layer (LOCK_ORDER) plus one for the docs publish, all at workflow level.
Which of them a run really contends for depends on its parameters, and Argo's mutex list has a
fixed length, so each entry's name is an expression: the layer's shared name when the run
touches that layer, else a name of its own (suffix "-free-" and the workflow's uid) that no
other workflow ever asks for. The controller substitutes global parameters into the
workflow-level spec before it tries the locks and acquires all of them or none.

Workflow level, not template level: a workflow waiting for a workflow-level lock stays
Pending and has no startedAt, so the wait does not count against activeDeadlineSeconds; a
template-level wait happens inside a Running workflow and does.
"""

from __future__ import annotations

from hera.workflows.models import Mutex, Synchronization

from workbench.contract import DOCS_LOCK, LAYER_LOCKS, LOCK_ORDER
from workflows import helm
from workflows.layers import DOCS_ENTRYPOINT, RUN_ENTRYPOINT

PREFIX_TEXT = helm.text(helm.FULLNAME)
FREE_SUFFIX = "-free-"


def _quoted(values: list[str]) -> str:
    return "[" + ", ".join(f"'{value}'" for value in values) + "]"


def _named_if(condition: str, lock: str) -> str:
    """`<fullname>-<lock>` when the condition holds, else a name only this workflow uses."""
    expression = f"({condition}) ? '{lock}' : '{lock}{FREE_SUFFIX}' + workflow.uid"
    return f"{PREFIX_TEXT}-{{{{={expression}}}}}"


def touches(lock: str) -> str:
    """expr-lang condition: this run of the dbt-run entrypoint holds `lock`."""
    layers = [layer for layer, locks in LAYER_LOCKS.items() if lock in locks]
    custom = "workflow.parameters.select != '' or workflow.parameters.exclude != ''"
    return (
        f"workflow.mainEntrypoint == '{RUN_ENTRYPOINT}' and "
        f"(workflow.parameters.layer in {_quoted(layers)} or {custom})"
    )


def workflow_synchronization() -> Synchronization:
    mutexes = [Mutex(name=_named_if(touches(lock), lock)) for lock in LOCK_ORDER]
    docs = f"workflow.mainEntrypoint == '{DOCS_ENTRYPOINT}'"
    mutexes.append(Mutex(name=_named_if(docs, DOCS_LOCK)))
    return Synchronization(mutexes=mutexes)
