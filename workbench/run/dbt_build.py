"""`dbt build` through dbt's Python entry point, with an event callback that sees every node."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from workbench.dbt_cli import common_args, invoke
from workbench.observability.records import TEST_RESOURCE_TYPES, NodeResult
from workbench.params import RunParams

NodeCallback = Callable[[NodeResult], None]
# Called once with ConcurrencyLine.node_count: the selected nodes without unit tests
# (see node_count.py for why that is not the whole build).
StartCallback = Callable[[int], None]
# Called as dbt starts a node (its NodeStart event); hooks have none.
NodeStartCallback = Callable[[], None]


def selection_args(params: RunParams) -> list[str]:
    """Which nodes the run selects: the layer's selector, or --select/--exclude replacing it."""
    args: list[str] = []
    if params.select is None and params.exclude is None:
        args += ["--selector", params.layer]
    if params.select is not None:
        args += ["--select", params.select]
    if params.exclude is not None:
        args += ["--exclude", params.exclude]
    return args


def vars_args(params: RunParams) -> list[str]:
    return ["--vars", json.dumps(dict(params.vars))] if params.vars else []


def build_args(params: RunParams, project_dir: Path) -> list[str]:
    """dbt CLI arguments: a list handed to dbtRunner, never a shell string."""
    args = ["build", *common_args(project_dir), *selection_args(params)]
    if params.full_refresh:
        args.append("--full-refresh")
    return [*args, *vars_args(params)]


def retry_args(project_dir: Path) -> list[str]:
    """`dbt retry`: selection, full-refresh and vars come from the previous run_results.json."""
    return ["retry", *common_args(project_dir)]


def _parse_dbt_time(text: str) -> datetime | None:
    # dbt reports naive UTC timestamps ("2026-11-25T18:43:16.691905").
    if not text:
        return None
    stamp = datetime.fromisoformat(text.rstrip("Z"))
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp


def _rows_affected(response: Any) -> int | None:
    value = response.get("rows_affected") if hasattr(response, "get") else None
    if isinstance(value, int | float) and value >= 0:
        return int(value)
    return None


def node_from_event(data: Any) -> NodeResult:
    """A NodeFinished event (its protobuf `data`) as a NodeResult."""
    info, result = data.node_info, data.run_result
    is_test = info.resource_type in TEST_RESOURCE_TYPES
    return NodeResult(
        unique_id=info.unique_id,
        name=info.node_name,
        resource_type=info.resource_type,
        status=result.status or info.node_status,
        started_at=_parse_dbt_time(info.node_started_at),
        finished_at=_parse_dbt_time(info.node_finished_at),
        duration_seconds=float(result.execution_time),
        # A test's adapter response counts its one summary row, not data: leave it out.
        rows_affected=None if is_test else _rows_affected(dict(result.adapter_response.items())),
        failures=int(result.num_failures) if is_test else None,
        message=result.message or None,
    )


def node_from_run_result(result: Any) -> NodeResult:
    """An entry of RunExecutionResult.results (for nodes no event reported, e.g. skipped)."""
    node = result.node
    started = finished = None
    for timing in getattr(result, "timing", []) or []:
        started = started or timing.started_at
        finished = timing.completed_at or finished
    failures = getattr(result, "failures", None)
    is_test = str(node.resource_type) in TEST_RESOURCE_TYPES
    return NodeResult(
        unique_id=node.unique_id,
        name=node.name,
        resource_type=str(node.resource_type),
        status=str(result.status),
        started_at=started.replace(tzinfo=UTC) if started else None,
        finished_at=finished.replace(tzinfo=UTC) if finished else None,
        duration_seconds=float(getattr(result, "execution_time", 0.0) or 0.0),
        rows_affected=None
        if is_test
        else _rows_affected(getattr(result, "adapter_response", None) or {}),
        failures=int(failures) if is_test and failures is not None else None,
        message=getattr(result, "message", None) or None,
    )


@dataclass
class BuildOutcome:
    """What dbt reported: its verdict, the exception if it raised, every node it finished."""

    success: bool
    exception: BaseException | None
    nodes: list[NodeResult] = field(default_factory=list)
    dbt_invocation_id: str | None = None
    completed: bool = False  # dbt produced a run result (it got as far as executing nodes)
    # unique_id -> the project folder the node is defined in (its fqn[1]: bronze, silver, ...)
    folders: dict[str, str] = field(default_factory=dict)
    parents: dict[str, tuple[str, ...]] = field(default_factory=dict)  # unique_id -> depends_on


@dataclass
class _EventCollector:
    on_node: NodeCallback
    on_start: StartCallback | None = None
    on_node_start: NodeStartCallback | None = None
    nodes: dict[str, NodeResult] = field(default_factory=dict)
    invocation_id: str | None = None

    def __call__(self, msg: Any) -> None:
        self.invocation_id = self.invocation_id or msg.info.invocation_id or None
        if msg.info.name == "ConcurrencyLine" and self.on_start is not None:
            self.on_start(int(msg.data.node_count))
        elif msg.info.name == "NodeStart" and self.on_node_start is not None:
            if not msg.data.node_info.unique_id.startswith("operation."):
                self.on_node_start()
        elif msg.info.name == "NodeFinished":
            node = node_from_event(msg.data)
            self.nodes[node.unique_id] = node
            self.on_node(node)


def run_dbt_build(
    args: Sequence[str],
    on_node: NodeCallback,
    on_start: StartCallback | None = None,
    on_node_start: NodeStartCallback | None = None,
) -> BuildOutcome:
    collector = _EventCollector(on_node, on_start, on_node_start)
    result = invoke(args, callbacks=[collector])
    outcome = BuildOutcome(
        success=bool(result.success),
        exception=result.exception,
        dbt_invocation_id=collector.invocation_id,
    )
    run_results = getattr(result.result, "results", None)
    if run_results is not None:
        outcome.completed = True
        for entry in run_results:
            fqn = getattr(entry.node, "fqn", None) or []
            if len(fqn) > 1:
                outcome.folders[entry.node.unique_id] = str(fqn[1])
            depends_on = getattr(getattr(entry.node, "depends_on", None), "nodes", None) or []
            outcome.parents[entry.node.unique_id] = tuple(str(uid) for uid in depends_on)
            if entry.node.unique_id not in collector.nodes:
                # nodes no event reported, and the on-run-start/-end hooks (dbt/task/run.py:1057)
                node = node_from_run_result(entry)
                collector.nodes[node.unique_id] = node
                on_node(node)
    outcome.nodes = list(collector.nodes.values())
    return outcome
