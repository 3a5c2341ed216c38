"""What Argo v4.1.2 retries, and until when, for the rendered retryStrategy of every job.

No Argo controller can run here: tests.manifests.argo_retry re-states the controller's
retry decision (argo-workflows v4.1.2 workflow/controller/operator.go:1030-1206) and each
test below feeds it the node Argo records for a kind of pod failure, citing where the
controller decides that node's phase and exit code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.manifests import chart
from tests.manifests.argo_retry import ERROR, FAILED, Attempt, decide, parse_duration, settle
from tests.manifests.argo_run import resolve_steps
from workbench.contract import FINAL_EXIT_CODES, PULL_STEP, ExitCode
from workflows.layers import JOBS, PULL_RETRY_LIMIT, PULL_TIMEOUT_SECONDS, Job

T0 = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)  # 03:00 in Asia/Manila


def _strategies(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any], int]]:
    """(object name, retryStrategy, job seconds) of the run every cron starts, and of an
    on-demand run from the template with its defaults, resolved as the controller does."""
    (template,) = chart.by_kind(docs, "WorkflowTemplate")
    reference = {"workflowTemplateRef": {"name": template["metadata"]["name"]}}
    specs = {template["metadata"]["name"]: reference}
    for cron in chart.by_kind(docs, "CronWorkflow"):
        specs[cron["metadata"]["name"]] = cron["spec"]["workflowSpec"]
    for name, spec in specs.items():
        for run in resolve_steps(spec, template):
            step = name if run.entrypoint != PULL_STEP else f"{name}/{PULL_STEP}"
            assert run.retry_strategy is not None, step
            yield step, run.retry_strategy, run.job_seconds()


def _job(name: str) -> Job:
    (job,) = [job for job in JOBS if name.endswith(f"-{job.name}")]
    return job


def _attempt(phase: str, exit_code: str | None, minutes: float = 1) -> Attempt:
    return Attempt(phase, exit_code, T0, T0 + timedelta(minutes=minutes))


# (what happened, the node Argo records for it, retried?)
POD_OUTCOMES = [
    # The main container's exit code becomes outputs.exitCode (operator.go:1612-1616); a
    # non-zero main container makes the node Failed (operator.go:1873-1874).
    ("a model or test failed", FAILED, str(int(ExitCode.FAILURE)), False),
    ("bad parameter / refused password", FAILED, str(int(ExitCode.CONFIGURATION_ERROR)), False),
    ("connection lost, deadlock, lock timeout", FAILED, str(int(ExitCode.RUNTIME_ERROR)), True),
    ("OOMKilled", FAILED, "137", True),
    ("SIGTERM before the handler was installed", FAILED, "143", True),
    # Evicted: the pod's status message wins and the node is Failed (operator.go:1786-1788);
    # a main container that never terminated leaves exitCode unset -> "-1" (operator.go:2160).
    ("evicted while running", FAILED, None, True),
    # A pod that vanished is marked Error "pod deleted" (operator.go:1341).
    ("pod deleted", ERROR, None, True),
    # An init container (operator.go:1871-1872) or wait container failure is an Error.
    ("init container failed", ERROR, None, True),
    # Pod creation failed, e.g. "failed to look-up entrypoint/cmd" (workflowpod.go:762):
    # executeTemplate marks the node Error (operator.go:2577).
    ("pod could not be created", ERROR, None, True),
    # Issue 19 finding 2: main exited 0 but Argo's own post-run work failed (artifact upload,
    # task-result write: workflow/executor/postmain.go:47-68, executor.go:788-826): the wait
    # container's failure makes the node Error (operator.go:1855-1876) while outputs.exitCode
    # is main's 0 (operator.go:1612-1616). The build is done; a retry would rebuild it.
    ("artifact upload failed after a successful build", ERROR, "0", False),
    ("wait failed after a transient error", ERROR, str(int(ExitCode.RUNTIME_ERROR)), True),
    ("wait failed after a model failed", ERROR, str(int(ExitCode.FAILURE)), False),
]


@pytest.mark.parametrize(
    ("what", "phase", "exit_code", "retried"), POD_OUTCOMES, ids=[o[0] for o in POD_OUTCOMES]
)
def test_retries_heal_transient_and_infrastructure_failures_only(
    everything_on_docs: list[dict[str, Any]],
    what: str,
    phase: str,
    exit_code: str | None,
    retried: bool,
) -> None:
    """operator.go:1151-1177 (Always retries Failed and Error nodes) then 1193-1202 (the
    expression decides), evaluated over buildRetryStrategyLocalScope (operator.go:2149-2167)."""
    seen = 0
    for name, strategy, _deadline in _strategies(everything_on_docs):
        decision, _ = settle(strategy, [_attempt(phase, exit_code)])
        assert decision.retry is retried, (name, what, decision.reason)
        seen += 1
    assert seen >= 6


def _exit_code_of(*args: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "DBT_"))}
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", *args],
        env={**env, "POSTGRES_HOST": "db.invalid"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--layer=nope"],  # a value the runtime validates
        ["run", "--layer=silver", "--no-such-option"],  # argparse's own usage error
        ["run"],  # a required option missing
        ["no-such-command"],
        ["ingest", "/nonexistent/file.csv", "--entity", "transactions"],
    ],
)
def test_a_usage_error_is_final_for_argo(
    everything_on_docs: list[dict[str, Any]], argv: list[str]
) -> None:
    """The real CLI's exit code, fed to the rendered expression: never retried (argparse's
    default usage exit is 2, which the expression would retry)."""
    code = _exit_code_of(*argv)
    assert code == ExitCode.CONFIGURATION_ERROR
    for name, strategy, _deadline in _strategies(everything_on_docs):
        decision, _ = settle(strategy, [_attempt(FAILED, str(code))])
        assert decision.retry is False, name
        assert decision.reason == "retryStrategy.expression evaluated to false"


def test_a_late_failure_is_still_retried_within_the_jobs_own_timeout(
    all_crons_docs: list[dict[str, Any]],
) -> None:
    """maxDuration counts from the FIRST attempt's start (operator.go:1089) and a retry whose
    backoff ends after it is refused (operator.go:1131-1137): an attempt failing at 80 % of the
    job's timeout must still get its retry, as long as the backoff fits."""
    for name, strategy, deadline_seconds in _strategies(all_crons_docs):
        timeout = timedelta(seconds=deadline_seconds)
        failed_at = T0 + timeout * 0.8
        late = Attempt(FAILED, str(int(ExitCode.RUNTIME_ERROR)), T0, failed_at)
        decision, _ = settle(strategy, [late])
        assert decision.retry, (name, decision.reason)
        # The retry pod's deadline (operator.go:1147 -> workflowpod.go:998-999) never runs
        # past the job's timeout, counted from the first attempt.
        assert decision.pod_deadline == T0 + timeout, name
        assert decision.wait <= parse_duration(strategy["backoff"]["cap"])


def test_backoff_is_bounded_by_each_jobs_timeout(all_crons_docs: list[dict[str, Any]]) -> None:
    """Each run's maxDuration is its own job's timeout; `cap` bounds one wait
    (operator.go:1122-1130), so the whole retry budget's waits fit well inside the timeout."""
    crons = {name: (s, d) for name, s, d in _strategies(all_crons_docs)}
    checked = 0
    for name, (strategy, deadline_seconds) in crons.items():
        if name.endswith(f"/{PULL_STEP}"):  # the pull before bronze: its own budget
            job_timeout, limit = PULL_TIMEOUT_SECONDS, PULL_RETRY_LIMIT
            assert deadline_seconds == job_timeout
        elif name == "wb-dbt-workbench":  # the template's default layer
            job = _job("-silver")
            job_timeout, limit = job.timeout_seconds, job.retry_limit
            assert deadline_seconds == job_timeout
        else:
            job = _job(name)
            job_timeout, limit = job.timeout_seconds, job.retry_limit
            assert deadline_seconds == job_timeout
        backoff = strategy["backoff"]
        assert parse_duration(backoff["maxDuration"]) == timedelta(seconds=job_timeout), name
        cap = parse_duration(backoff["cap"])
        waits = [
            min(parse_duration(backoff["duration"]) * int(backoff["factor"]) ** n, cap)
            for n in range(limit)
        ]
        assert sum(waits, timedelta(0)) < timedelta(seconds=job_timeout) / 2, name
        checked += 1
    assert checked == 1 + len([job for job in JOBS if job.scheduled])


def test_no_retry_after_the_workflow_deadline(default_docs: list[dict[str, Any]]) -> None:
    """operator.go:1065-1075: past activeDeadlineSeconds nothing is retried, whatever the code."""
    ((_, strategy, _),) = [s for s in _strategies(default_docs) if s[0] == "wb-dbt-workbench"]
    (template,) = chart.by_kind(default_docs, "WorkflowTemplate")
    timeout = timedelta(seconds=template["spec"]["activeDeadlineSeconds"])
    attempt = _attempt(FAILED, str(int(ExitCode.RUNTIME_ERROR)))
    decision = decide(strategy, [attempt], T0 + timeout + timedelta(seconds=1), T0 + timeout)
    assert decision.retry is False


def test_the_retry_limit_holds(default_docs: list[dict[str, Any]]) -> None:
    ((_, strategy, _),) = [s for s in _strategies(default_docs) if s[0] == "wb-dbt-workbench"]
    limit = _job("-silver").retry_limit  # the template's default layer
    transient = str(int(ExitCode.RUNTIME_ERROR))
    attempts = [_attempt(FAILED, transient) for _ in range(limit + 1)]
    assert settle(strategy, attempts[:-1])[0].retry
    assert settle(strategy, attempts)[0].reason == "No more retries left"


OPERATE_DOC = chart.REPO_ROOT / "docs" / "operate.md"


@pytest.mark.parametrize("code", [int(c) for c in FINAL_EXIT_CODES])
def test_a_final_exit_code_waits_out_its_backoff_before_the_run_ends(
    all_crons_docs: list[dict[str, Any]], code: int
) -> None:
    """Issue 19 finding 6. processNodeRetries applies the backoff (operator.go:1077-1144,
    requeue at 1138-1144) before the retry policy, the limit and the expression (1151-1202),
    and no shape of retryStrategy reads the last attempt earlier: its fields are substituted
    once per pass from the template's inputs and globals (operator.go:2446-2457), while
    lastRetry.* is injected only for the next pod (operator.go:2522-2538). So a final exit 1 or
    3 after attempt n keeps the Workflow Running, holding its mutexes, for that attempt's
    backoff - min(duration * factor^(n-1), cap) - then ends; docs/operate.md says so, and the
    exit code is the Workflow's `exit_code` output (test_run_outputs.py)."""
    doc = " ".join(OPERATE_DOC.read_text(encoding="utf-8").split())
    assert "a final exit 1 or 3 still waits out the backoff" in doc
    for name, strategy, _seconds in _strategies(all_crons_docs):
        backoff = strategy["backoff"]
        for n in range(1, int(strategy["limit"]) + 1):
            transient = [
                Attempt(FAILED, str(int(ExitCode.RUNTIME_ERROR)), T0, T0 + timedelta(seconds=1))
                for _ in range(n - 1)
            ]
            last = Attempt(FAILED, str(code), T0, T0 + timedelta(seconds=2))
            decision, decided_at = settle(strategy, [*transient, last])
            assert decision.retry is False, name
            assert decision.reason == "retryStrategy.expression evaluated to false", name
            expected = min(
                parse_duration(backoff["duration"]) * int(backoff["factor"]) ** (n - 1),
                parse_duration(backoff["cap"]),
            )
            assert decided_at - last.finished == expected, (name, n)
            assert expected <= timedelta(minutes=10)
