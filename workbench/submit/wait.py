"""Follow a Workflow until it finishes; map its phase to `workbench run`'s exit codes."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from workbench.contract import ExitCode

FINISHED_PHASES = {
    "Succeeded": ExitCode.SUCCESS,
    "Failed": ExitCode.FAILURE,  # a model/test failed, or retries of a runtime error ran out
    "Error": ExitCode.RUNTIME_ERROR,  # Argo could not run the pod (e.g. template missing)
}


@dataclass(frozen=True)
class Outcome:
    phase: str  # the Workflow's last phase, or "Timeout"
    message: str
    exit_code: int


def wait_for_workflow(
    read: Callable[[], dict[str, Any]],
    *,
    timeout_seconds: float,
    poll_seconds: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    deadline = clock() + timeout_seconds
    while True:
        status = read().get("status") or {}
        phase = status.get("phase") or "Pending"
        if phase in FINISHED_PHASES:
            return Outcome(phase, status.get("message", ""), int(FINISHED_PHASES[phase]))
        if clock() >= deadline:
            return Outcome(
                "Timeout",
                f"still {phase} after {timeout_seconds:g}s (the Workflow keeps running)",
                int(ExitCode.RUNTIME_ERROR),
            )
        sleep(poll_seconds)
