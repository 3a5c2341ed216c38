"""How many nodes a `dbt build` will execute, counted before it starts: the progress total.

Why not take it from dbt's own events (dbt-core 1.11.16, the version in uv.lock):
- ConcurrencyLine.node_count is `num_nodes`, the selected non-ephemeral nodes *without* unit
  tests (dbt/task/runnable.py:208, fired at runnable.py:549-553): `workbench run --layer gold`
  reports 24 while 32 run (2 models, 22 data tests and 8 unit tests).
- LogStartLine.total ("1 of N START") is that count plus the selected unit tests, added in
  BuildTask.handle_job_queue while `run_count == 0` (dbt/task/build.py:112-114). run_count grows
  only when a runner is made, and a model with unit tests gets its runners in a worker thread
  (build.py:126-132), so with 4 threads the unit tests are added once per job queued before
  then: the same gold run announced "1 of 48 START" (tests/runtime/dbt_events/).
- on-run-start/on-run-end hooks fire no NodeStart/NodeFinished, only LogHookStartLine and
  LogHookEndLine with their own index/total, yet dbt appends them to the run results
  (dbt/task/run.py:1057-1068): they are not nodes of the build and are not counted here.

So the total is computed with dbt's own selection: `dbt ls` in this process with the build's
selector/--select/--exclude/--vars and the resource types BuildTask runs (its RUNNER_MAP),
minus ephemeral models (never executed). It costs one more (partial) parse, about 2 s, so it is
done only when someone watches progress (an Argo progress file or a terminal's bar).
"""

from __future__ import annotations

import json
from pathlib import Path

import structlog

from workbench.dbt_cli import common_args, invoke
from workbench.params import RunParams
from workbench.run.dbt_build import selection_args, vars_args

log = structlog.get_logger("workbench.run")


def build_resource_types() -> list[str]:
    """The resource types `dbt build` executes: the keys of BuildTask.RUNNER_MAP."""
    from dbt.task.build import BuildTask

    return [str(resource_type) for resource_type in BuildTask.RUNNER_MAP]


def list_args(params: RunParams, project_dir: Path) -> list[str]:
    """`dbt ls` with the selection of build_args (dbt_build.py): same selector, select, exclude
    and vars; --full-refresh changes what runs, not which nodes, and ls does not take it."""
    args = ["ls", *common_args(project_dir), *selection_args(params), *vars_args(params)]
    args += ["--resource-type", *build_resource_types()]
    return [*args, "--output", "json", "--output-keys", "unique_id", "resource_type", "config"]


def executed_count(listed: list[str]) -> int:
    """How many of `dbt ls --output json` lines dbt build executes (ephemeral models are not)."""
    count = 0
    for line in listed:
        entry = json.loads(line)
        config = entry.get("config") or {}
        if entry.get("resource_type") == "model" and config.get("materialized") == "ephemeral":
            continue
        count += 1
    return count


def count_build_nodes(params: RunParams, project_dir: Path) -> int | None:
    """The number of nodes the build will execute, or None when dbt could not list them (the
    build then reports its own failure; progress falls back on dbt's events)."""
    try:
        result = invoke(list_args(params, project_dir))
        listed = result.result if result.success else None
        if not isinstance(listed, list):
            log.warning("node_count_unavailable", error=str(result.exception))
            return None
        return executed_count([str(line) for line in listed])
    except Exception as exc:  # a progress total never fails a run
        log.warning("node_count_unavailable", error=f"{type(exc).__name__}: {exc}")
        return None
