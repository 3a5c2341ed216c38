"""The Argo v4.1.2 controller's retry decision, re-stated for the subset the chart uses.

No controller can run here. This follows `processNodeRetries` in argo-workflows v4.1.2
workflow/controller/operator.go:1030-1206 step by step (line numbers at each step), and
evaluates `retryStrategy.expression` with tests.manifests.argo_expr (expr-lang for the
constructs the chart uses; anything else is rejected).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.manifests.argo_expr import evaluate

# Node phases (pkg/apis/workflow/v1alpha1/workflow_types.go NodePhase).
FAILED = "Failed"
ERROR = "Error"


@dataclass(frozen=True)
class Attempt:
    """One finished child of the retry node, as the controller records it."""

    phase: str  # Failed: the main container failed; Error: Argo could not run or watch the pod
    exit_code: str | None  # node.outputs.exitCode; None when the main container never ended
    started: datetime
    finished: datetime
    message: str = ""


_GO_UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str) -> timedelta:
    """wfv1.ParseStringToDuration (pkg/apis/workflow/v1alpha1/utils.go:9-20): integer seconds,
    else Go's time.ParseDuration (the h/m/s/ms units)."""
    if re.fullmatch(r"-?\d+", text):
        return timedelta(seconds=int(text))
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"unable to parse {text} as a duration")
    return timedelta(seconds=sum(float(n) * _GO_UNITS[u] for n, u in parts))


def eval_retry_expression(expression: str, last: Attempt, retries: int) -> bool:
    """argoexpr.EvalBool over buildRetryStrategyLocalScope (operator.go:2149-2167): exitCode
    is the node's outputs.exitCode or "-1" (line 2160), status is the node phase."""
    scope = {
        "lastRetry.exitCode": last.exit_code if last.exit_code is not None else "-1",
        "lastRetry.status": last.phase,
        "lastRetry.duration": str((last.finished - last.started).total_seconds()),
        "lastRetry.message": last.message,
        "retries": str(retries),
    }
    result = evaluate(expression, scope)
    if not isinstance(result, bool):
        raise ValueError(f"unable to cast expression result '{result}' to bool")
    return result


@dataclass(frozen=True)
class Decision:
    retry: bool
    reason: str
    wait: timedelta = timedelta(0)
    pod_deadline: datetime | None = None  # activeDeadline of the next pod (maxDuration)
    waiting: bool = False  # still in the backoff: nothing decided yet, the locks stay held


def decide(
    strategy: dict[str, Any],
    attempts: list[Attempt],
    now: datetime,
    workflow_deadline: datetime | None = None,
) -> Decision:
    """Whether the controller starts another attempt after `attempts` (the last one finished)."""
    first, last = attempts[0], attempts[-1]
    if workflow_deadline is not None and now > workflow_deadline:  # operator.go:1065-1075
        return Decision(False, "retry exceeded workflow deadline")
    deadline: datetime | None = None
    wait = timedelta(0)
    backoff = strategy.get("backoff")
    if backoff is not None:
        if backoff.get("maxDuration"):  # operator.go:1080-1094, from the FIRST attempt
            deadline = first.started + parse_duration(backoff["maxDuration"])
            if now > deadline:
                return Decision(False, "Max duration limit exceeded")
        wait = parse_duration(backoff["duration"])  # operator.go:1101-1106
        factor = int(backoff.get("factor", "0"))
        if factor > 0:  # operator.go:1112-1121: duration * factor^(attempts-1)
            wait = wait * factor ** (len(attempts) - 1)
        if backoff.get("cap"):  # operator.go:1122-1130
            wait = min(wait, parse_duration(backoff["cap"]))
        if deadline is not None and last.finished + wait > deadline:  # operator.go:1131-1137
            return Decision(False, "Backoff would exceed max duration limit")
        # operator.go:1138-1144: the wait comes BEFORE the policy, limit and expression below,
        # whatever the exit code: the node stays Running ("Backoff for ...") until it ends.
        if now < last.finished + wait and len(attempts) <= int(strategy["limit"]):
            return Decision(False, f"Backoff for {wait}", wait, deadline, waiting=True)
    policy = strategy.get("retryPolicy", "OnFailure")  # RetryPolicyActual's default
    on_failed, on_error = {
        "Always": (True, True),
        "OnError": (False, True),
        "OnFailure": (True, False),
    }[policy]  # operator.go:1151-1172 (OnTransientError: only transient messages)
    if (last.phase == FAILED and not on_failed) or (last.phase == ERROR and not on_error):
        return Decision(False, "Node not set to be retried")  # operator.go:1174-1177
    if len(attempts) > int(strategy["limit"]):  # operator.go:1184-1191
        return Decision(False, "No more retries left")
    expression = strategy.get("expression")
    if expression and not eval_retry_expression(expression, last, len(attempts) - 1):
        return Decision(False, "retryStrategy.expression evaluated to false")  # :1193-1202
    return Decision(True, "trying again", wait, deadline)  # :1147 executionDeadline


def settle(
    strategy: dict[str, Any], attempts: list[Attempt], workflow_deadline: datetime | None = None
) -> tuple[Decision, datetime]:
    """The controller's decision right after the last attempt ended, and when it is made: a
    decision still in its backoff is taken again when the wait is over (requeueAfter,
    operator.go:1141)."""
    now = attempts[-1].finished
    decision = decide(strategy, attempts, now, workflow_deadline)
    if decision.waiting:
        now = attempts[-1].finished + decision.wait
        decision = decide(strategy, attempts, now, workflow_deadline)
    return decision, now
