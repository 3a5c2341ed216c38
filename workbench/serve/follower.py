"""Real-time bronze: after landings, run the bronze layer exactly as `workbench run --layer
bronze` does (it *is* that command, in a child process), debounced.

- The first landing after a quiet spell arms a timer of `debounce` seconds; every landing until
  it fires rides along, so under load bronze runs back to back, each run taking everything
  committed before it started (the layer's incremental filter reads raw by raw_id).
- Its data tests read the batch (FOLLOWER_ENV), not the whole of bronze and raw.
- The child takes the bronze advisory lock with a try-lock (`--lock-timeout 0`): when another
  replica's follower or the daily bronze job holds it, this run is "busy" and is tried again
  after `retry` seconds, so with several replicas one follows at a time and none overlaps the
  daily job.
- A failed run (dbt error, database gone) is logged and counted, and tried again after `retry`
  seconds; the records stay in raw, where the next run or the daily job picks them up.
A record acknowledged at t is in bronze by t + debounce + 2 x (one bronze run) when the lock is
free: a run that started just before its commit finishes, the debounce passes, the next run
takes it. docs/ingest-api.md states the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from workbench.contract import SERVE_TOKEN_ENV, TEST_SCOPE_ENV
from workbench.serve.metrics import ServeMetrics

log = structlog.get_logger("workbench.serve.follower")

# The child's own words when the try-lock found the bronze lock taken (workbench/run/lock.py).
_LOCK_BUSY = "is held by another run"


# A follower run is a micro-batch: its data tests read the rows bronze wrote since each test
# last passed (dbt/macros/test_scope.sql), so it costs what its batch costs. The daily bronze
# job (the same command without it), maintenance, `--layer all` and any full refresh test whole
# tables.
FOLLOWER_ENV = {TEST_SCOPE_ENV: "batch"}


def bronze_command() -> list[str]:
    return [
        sys.executable,
        "-m",
        "workbench.cli",
        "run",
        "--layer",
        "bronze",
        "--lock-timeout",
        "0",
        "--log-format",
        "json",
    ]


@dataclass(frozen=True)
class FollowRun:
    outcome: str  # built | nothing_new | busy | failed
    exit_code: int
    seconds: float
    error: str | None


def outcome_of(exit_code: int, invocation: Mapping[str, Any] | None) -> str:
    """What one child run did, read from its exit code and its `dbt_invocation` log event."""
    if exit_code == 0:
        nothing_new = bool(invocation and invocation.get("nothing_new"))
        return "nothing_new" if nothing_new else "built"
    error = str((invocation or {}).get("error") or "")
    return "busy" if _LOCK_BUSY in error else "failed"


class BronzeFollower:
    def __init__(
        self,
        metrics: ServeMetrics,
        *,
        debounce: float,
        retry: float,
        command: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._metrics = metrics
        self._debounce = debounce
        self._retry = retry
        self._command = list(command or bronze_command())
        base = dict(os.environ if env is None else env)
        base.pop(SERVE_TOKEN_ENV, None)  # the child never needs the service's token
        base.update(FOLLOWER_ENV)
        self._env = base
        self._wanted = asyncio.Event()
        self._child: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None

    def landed(self) -> None:
        """Records were committed: bronze should run soon."""
        self._wanted.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="bronze-follower")

    async def stop(self, timeout: float) -> None:
        """Let a running bronze run finish for up to `timeout` s, then interrupt it (SIGTERM:
        the child records the run as interrupted; its records stay in raw)."""
        task, self._task = self._task, None
        if task is None:
            return
        child = self._child
        if child is not None and child.returncode is None:
            try:
                await asyncio.wait_for(asyncio.shield(child.wait()), timeout)
            except TimeoutError:
                child.terminate()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _loop(self) -> None:
        while True:
            await self._wanted.wait()
            await asyncio.sleep(self._debounce)
            self._wanted.clear()
            run = await self._run_once()
            if run.outcome in ("busy", "failed"):
                self._wanted.set()
                await asyncio.sleep(self._retry)

    async def _run_once(self) -> FollowRun:
        started = time.monotonic()
        invocation: dict[str, Any] | None = None
        try:
            child = await asyncio.create_subprocess_exec(
                *self._command,
                env=self._env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as spawn_error:
            return self._finish(
                FollowRun("failed", -1, time.monotonic() - started, str(spawn_error))
            )
        self._child = child
        try:
            assert child.stderr is not None
            async for line in child.stderr:
                sys.stderr.write(line.decode("utf-8", "replace"))  # the child's JSON log lines
                event = _event(line)
                if event is not None and event.get("event") == "dbt_invocation":
                    invocation = event
            exit_code = await child.wait()
        finally:
            self._child = None
        outcome = outcome_of(exit_code, invocation)
        reported = None if invocation is None else invocation.get("error")
        return self._finish(FollowRun(outcome, exit_code, time.monotonic() - started, reported))

    def _finish(self, run: FollowRun) -> FollowRun:
        self._metrics.follow_runs.labels(run.outcome).inc()
        self._metrics.follow_duration.observe(run.seconds)
        method = log.error if run.outcome == "failed" else log.info
        method(
            "serve.bronze_follow",
            outcome=run.outcome,
            exit_code=run.exit_code,
            duration_seconds=round(run.seconds, 3),
            error=run.error,
        )
        return run


def _event(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
