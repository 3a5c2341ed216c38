"""What `workbench run` shows a person: a progress bar over dbt's nodes, then one line per layer.

Used only for the console log format; pods and `--log-format json` get one JSON event per node
instead. A failing node is printed as it finishes (with dbt's message), so nothing that the
JSON stream would say about a failure is hidden here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Never, TextIO

from tqdm import tqdm

from workbench.contract import LOCK_ORDER
from workbench.observability.records import InvocationResult, NodeResult
from workbench.run.progress import NodeTally

SEEDS_GROUP = "seeds"  # seeds and their tests: defined outside the layer folders
HOOKS_GROUP = "hooks"  # on-run-start / on-run-end (the test_failures views)
_MESSAGE_LIMIT = 160


@dataclass
class ConsoleReport:
    stream: TextIO
    progress_bar: bool
    _bar: tqdm[Never] | None = field(default=None, init=False)
    _tally: NodeTally = field(default_factory=NodeTally, init=False)

    def start(self, total: int) -> None:
        """The build will execute `total` nodes (hooks not included: see NodeTally)."""
        self._tally.reset(total)
        if self.progress_bar and self._bar is None:
            self._bar = tqdm(
                total=total, unit="node", desc="dbt build", leave=False, file=self.stream
            )

    @property
    def shown(self) -> tuple[int, int] | None:
        """What the bar holds (done, total), or None without a bar."""
        if self._bar is None:
            return None
        return int(self._bar.n), int(self._bar.total or 0)

    def node_started(self) -> None:
        if self._tally.node_started() and self._bar is not None:
            self._bar.total = self._tally.total
            self._bar.refresh()

    def node(self, node: NodeResult) -> None:
        """A finished node; a hook (not a node of the build) only reports its failure."""
        if not is_hook(node):
            self._tally.node_finished()
            if self._bar is not None:
                self._bar.total = self._tally.total
                self._bar.update(1)
        if node.failed:
            self._write(failure_line(node))

    def finish(
        self,
        result: InvocationResult,
        folders: Mapping[str, str],
        parents: Mapping[str, tuple[str, ...]],
    ) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        for line in layer_lines(result.nodes, folders, parents):
            self._write(line)
        self._write(closing_line(result))

    def _write(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)


def failure_line(node: NodeResult) -> str:
    message = " ".join((node.message or "").split())
    if len(message) > _MESSAGE_LIMIT:
        message = message[: _MESSAGE_LIMIT - 1] + "…"
    return f"  {node.status.upper()} {node.resource_type} {node.name}: {message}".rstrip(": ")


def is_hook(node: NodeResult) -> bool:
    """An on-run-start/on-run-end hook: dbt records it among the results (as an `operation`)
    but runs it outside the build's node graph, before and after every node."""
    return node.unique_id.startswith("operation.")


def group_of(
    unique_id: str, folders: Mapping[str, str], parents: Mapping[str, tuple[str, ...]]
) -> str:
    """The layer folder a node is defined in; for a test outside them (a singular test in
    tests/), the last layer it reads from, which is when dbt build can run it."""
    if unique_id.startswith("operation."):
        return HOOKS_GROUP
    folder = folders.get(unique_id, "")
    if folder in LOCK_ORDER:
        return folder
    read = {folders.get(parent, "") for parent in parents.get(unique_id, ())}
    layers = [layer for layer in LOCK_ORDER if layer in read]
    return layers[-1] if layers else SEEDS_GROUP


def layer_lines(
    nodes: tuple[NodeResult, ...],
    folders: Mapping[str, str],
    parents: Mapping[str, tuple[str, ...]],
) -> list[str]:
    """One line per layer, in layer order: models, tests and hooks by status, and the time."""
    groups: dict[str, list[NodeResult]] = {}
    for node in nodes:
        groups.setdefault(group_of(node.unique_id, folders, parents), []).append(node)
    order = (SEEDS_GROUP, *LOCK_ORDER, HOOKS_GROUP)
    return [_layer_line(name, groups[name]) for name in order if name in groups]


def _layer_line(name: str, nodes: list[NodeResult]) -> str:
    hooks = Counter(node.status for node in nodes if is_hook(node))
    built = Counter(node.status for node in nodes if not node.is_test and not is_hook(node))
    tested = Counter(node.status for node in nodes if node.is_test)
    parts = []
    if built:
        parts.append(f"{sum(built.values())} built ({_tally(built)})")
    if tested:
        parts.append(f"{sum(tested.values())} tests ({_tally(tested)})")
    if hooks:
        parts.append(f"{sum(hooks.values())} hooks ({_tally(hooks)})")
    return f"  {name:<13} {', '.join(parts):<58} {_work_seconds(nodes):6.1f} s"


def _tally(counts: Counter[str]) -> str:
    return ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))


def _work_seconds(nodes: list[NodeResult]) -> float:
    """Wall time of a layer's nodes (first start to last end: they overlap on dbt's threads)
    plus the time its hooks ran. Hooks are timed one by one: on-run-start runs before every
    node and on-run-end after, so their span would be the whole build, not their work."""
    hooks = sum(node.duration_seconds for node in nodes if is_hook(node))
    return hooks + _wall_seconds([node for node in nodes if not is_hook(node)])


def _wall_seconds(nodes: list[NodeResult]) -> float:
    if not nodes:
        return 0.0
    starts = [node.started_at for node in nodes if node.started_at is not None]
    ends = [node.finished_at for node in nodes if node.finished_at is not None]
    if not starts or not ends:
        return sum(node.duration_seconds for node in nodes)
    first: datetime = min(starts)
    return (max(ends) - first).total_seconds()


def closing_line(result: InvocationResult) -> str:
    verdict = "ok" if result.success else "FAILED"
    nodes = sum(1 for node in result.nodes if not is_hook(node))
    line = (
        f"dbt build {result.selection}: {verdict}, {nodes} nodes in "
        f"{result.duration_seconds:.1f} s (exit {result.exit_code})"
    )
    return f"{line}: {result.error}" if result.error else line
