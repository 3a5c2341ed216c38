"""Issue 19, finding 15: the progress total is the nodes dbt executes, and hooks are no work.

tests/runtime/dbt_events/gold_build.jsonl is dbt's own JSON log (dbt-core 1.11.16) of
`workbench run --layer gold --force` on a sample-data database, cut to the events the progress
reads: ConcurrencyLine, NodeStart, NodeFinished, LogStartLine and the hook lines. They are
replayed as the protobuf messages dbt hands its callbacks.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dbt.events import core_types_pb2
from google.protobuf.json_format import ParseDict

from tests.runtime.cli_runs import run_workbench
from tests.runtime.dbt_projects import runner_env
from workbench.config import dbt_project_dir
from workbench.observability.records import InvocationResult, NodeResult
from workbench.run.console import ConsoleReport, closing_line, is_hook, layer_lines
from workbench.run.dbt_build import _EventCollector
from workbench.run.progress import ProgressFile

RECORDED = Path(__file__).parent / "dbt_events" / "gold_build.jsonl"
PROGRESS = re.compile(r"(\d+)/(\d+)")


def recorded_events() -> list[Any]:
    messages = []
    for line in RECORDED.read_text().splitlines():
        event = json.loads(line)
        message_type = getattr(core_types_pb2, event["info"]["name"] + "Msg")
        messages.append(ParseDict(event, message_type()))  # strict: unknown fields raise
    return messages


@dataclass
class Replay:
    progress: list[tuple[int, int]]  # the progress file's lines
    bar: list[tuple[int, int]]  # what the console bar held after each event
    running_at_total: int  # events after which done == total while a node still ran


def replay(tmp_path: Path, counted: int | None) -> Replay:
    """Feed the recorded events to the collector wired as invocation._build wires it."""
    progress = ProgressFile(tmp_path / "progress")
    stream = io.StringIO()
    console = ConsoleReport(stream, progress_bar=True)

    def on_start(dbt_count: int) -> None:
        total = counted if counted is not None else dbt_count
        progress.start(total)
        console.start(total)

    def on_node(node: NodeResult) -> None:
        console.node(node)
        if not is_hook(node):
            progress.node_finished()

    def on_node_start() -> None:
        progress.node_started()
        console.node_started()

    collector = _EventCollector(on_node, on_start, on_node_start)
    running_at_total = 0
    bar: list[tuple[int, int]] = []
    for message in recorded_events():
        collector(message)
        tally = progress.tally
        if tally.started > tally.done and tally.done >= tally.total:
            running_at_total += 1
        shown = console.shown
        if shown is not None and shown not in bar[-1:]:
            bar.append(shown)
    console.finish(_result(collector.nodes), {}, {})
    lines = progress.path.read_text().splitlines()
    return Replay([_pair(PROGRESS.fullmatch(line)) for line in lines], bar, running_at_total)


def _pair(match: re.Match[str] | None) -> tuple[int, int]:
    assert match is not None
    return int(match[1]), int(match[2])


def _result(nodes: dict[str, NodeResult]) -> InvocationResult:
    now = datetime.now(UTC)
    return InvocationResult(
        invocation_id="i",
        layer="gold",
        selection="selector:gold",
        select=None,
        exclude=None,
        full_refresh=False,
        vars={},
        started_at=now,
        finished_at=now,
        lock_wait_seconds=0.0,
        exit_code=0,
        error=None,
        dbt_invocation_id=None,
        labels={},
        nodes=tuple(nodes.values()),
    )


def _named(name: str) -> list[Any]:
    return [m for m in recorded_events() if m.info.name == name]


def test_dbt_announces_a_total_without_the_unit_tests_and_then_one_counting_them_repeatedly() -> (
    None
):
    """Why neither of dbt's totals is used (workbench/run/node_count.py)."""
    finished = [m.data.node_info for m in _named("NodeFinished")]
    by_type: dict[str, int] = {}
    for info in finished:
        by_type[info.resource_type] = by_type.get(info.resource_type, 0) + 1
    assert by_type == {"model": 2, "test": 22, "unit_test": 8}
    assert [m.data.node_count for m in _named("ConcurrencyLine")] == [24]  # no unit tests
    assert {m.data.total for m in _named("LogStartLine")} == {48}  # 24 + 8 three times
    assert sorted(m.data.index for m in _named("LogStartLine")) == list(range(1, 33))
    # the four hooks: their own 1-of-2 lines, and no NodeStart/NodeFinished
    hooks = _named("LogHookStartLine")
    assert [(m.data.index, m.data.total) for m in hooks] == [(1, 2), (2, 2), (1, 2), (2, 2)]
    starts = [m.data.node_info.unique_id for m in _named("NodeStart")]
    assert len(starts) == 32 and not any(uid.startswith("operation.") for uid in starts)


def test_with_the_counted_total_the_file_and_the_bar_step_once_per_node(tmp_path: Path) -> None:
    run = replay(tmp_path, counted=32)
    assert run.progress == [(done, 32) for done in range(33)]
    assert run.bar == run.progress
    assert run.running_at_total == 0


def test_with_only_dbts_count_the_total_grows_with_the_nodes_started(tmp_path: Path) -> None:
    """dbt retry, or a failed count: ConcurrencyLine's 24, raised as unit tests start."""
    run = replay(tmp_path, counted=None)
    assert run.progress[0] == (0, 24) and run.progress[-1] == (32, 32)
    for before, after in zip(run.progress, run.progress[1:], strict=False):
        assert after[0] >= before[0] and after[1] >= before[1]  # both monotone
    assert all(0 <= done <= total for done, total in run.progress + run.bar)
    assert run.running_at_total == 0  # never N/N while a node runs
    assert run.bar == run.progress
    assert (24, 24) not in run.progress


def _hook(index: int, start: datetime, seconds: float) -> NodeResult:
    return NodeResult(
        unique_id=f"operation.scout_retail.scout_retail-on-run-{index}",
        name=f"scout_retail-on-run-{index}",
        resource_type="operation",
        status="success",
        started_at=start,
        finished_at=start + timedelta(seconds=seconds),
        duration_seconds=seconds,
        rows_affected=None,
        failures=None,
        message=None,
    )


def test_the_hooks_line_reports_the_hooks_time_not_the_builds_span() -> None:
    start = datetime(2026, 12, 6, 20, 55, 32, tzinfo=UTC)
    end = start + timedelta(minutes=5)  # on-run-end runs after every node
    hooks = (_hook(0, start, 0.5), _hook(1, start, 0.25), _hook(2, end, 1.0), _hook(3, end, 0.25))
    (line,) = layer_lines(hooks, {}, {})
    assert line.split()[:4] == ["hooks", "4", "hooks", "(4"]
    assert line.endswith("   2.0 s"), line
    result = _result({node.unique_id: node for node in hooks})
    assert ", 0 nodes in " in closing_line(result)


RUN_RESULTS_HOOK = "operation."


@pytest.mark.integration
def test_a_real_gold_run_reports_the_nodes_dbt_executes(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    env = runner_env(pg_env, dbt_project_dir(), tmp_path)
    data = tmp_path / "data"
    steps: list[tuple[str, ...]] = [
        ("sample-data", "--out", str(data), "--transactions", "2000", "--seed", "7"),
        ("ingest", str(data / "products.jsonl"), "--entity", "products"),
        ("ingest", str(data / "transactions-*.jsonl"), "--entity", "transactions"),
        ("run", "--layer", "bronze"),
        ("run", "--layer", "silver"),
    ]
    for step in steps:
        done = run_workbench(*step, env=env)
        assert done.exit_code == 0, done.stderr[-3000:]
    progress = tmp_path / "argo" / "progress"
    progress.parent.mkdir()
    gold_env = {**env, "ARGO_PROGRESS_FILE": str(progress), "WORKBENCH_LOG_FORMAT": "console"}
    gold = run_workbench("run", "--layer", "gold", "--force", env=gold_env)
    assert gold.exit_code == 0, gold.stderr[-3000:]

    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    hooks = [r for r in results if r["unique_id"].startswith(RUN_RESULTS_HOOK)]
    nodes = [r for r in results if not r["unique_id"].startswith(RUN_RESULTS_HOOK)]
    assert len(hooks) == 4 and any(r["unique_id"].startswith("unit_test.") for r in nodes)
    pairs = [_pair(PROGRESS.fullmatch(line)) for line in progress.read_text().splitlines()]
    assert {total for _, total in pairs} == {len(nodes)}
    assert [done for done, _ in pairs] == list(range(len(nodes) + 1))  # monotone, <= total

    text = gold.stdout + gold.stderr
    (hooks_line,) = [line for line in text.splitlines() if line.startswith("  hooks ")]
    seconds = float(hooks_line.split()[-2])
    assert seconds == pytest.approx(sum(r["execution_time"] for r in hooks), abs=0.051)
    assert f", {len(nodes)} nodes in " in text
