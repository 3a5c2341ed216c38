"""What Argo retries, and for how long: the runtime's exit-code contract as a retryStrategy.

The exit codes are workbench.contract.ExitCode; the codes a retry cannot heal are its
FINAL_EXIT_CODES. The chart's alert rules read the same numbers from the generated layer table.
The strategy sits on the pod templates themselves (workflows.template), with a limit and a
maxDuration read from the layer table by workflows.budget: the controller prefers a template's
own retryStrategy over the Workflow's (argo-workflows v4.1.2 operator.go:4475-4480), and a
controller with `templateReferencing: Strict|Secure` refuses a Workflow that sets one
(workflow/util/merge.go:21-36 has no RetryStrategy among the allowed overrides).
"""

from __future__ import annotations

from hera.workflows.models import Backoff, IntOrString, RetryStrategy

from workbench.contract import FINAL_EXIT_CODES, ExitCode

# Evaluated by the controller after a failed or errored attempt. lastRetry.exitCode is the
# main container's exit code, "-1" when it never terminated (evicted, deleted before it ran,
# init container or pod creation failed). lastRetry.status is "Error" also when main exited 0
# and only Argo's own post-run work failed (an artifact upload, the task-result write): the
# build is done, so exit 0 is final like the FINAL_EXIT_CODES. Everything else retries:
# OOMKilled (137), eviction, a transient error (2), an Error before main ran (-1).
NOT_RETRIED_EXIT_CODES: tuple[int, ...] = (
    int(ExitCode.SUCCESS),
    *(int(code) for code in FINAL_EXIT_CODES),
)
RETRY_EXPRESSION = (
    f"asInt(lastRetry.exitCode) not in [{', '.join(str(code) for code in NOT_RETRIED_EXIT_CODES)}]"
)

FIRST_BACKOFF_SECONDS = 60
BACKOFF_FACTOR = 2
# The longest single wait between two attempts.
BACKOFF_CAP_SECONDS = 10 * 60


def retry_strategy(limit: int | str, max_duration_seconds: int | str) -> RetryStrategy:
    """Retries within the job's own timeout.

    `backoff.maxDuration` counts from the first attempt's start and also becomes every retry
    pod's deadline, so it is the job's timeout: a retry may start as long as the job still has
    time, and never runs past it. Durations are whole seconds, which Argo accepts unitless.
    Either value may be an Argo expression (`{{=...}}`) the controller resolves per run.
    """
    return RetryStrategy(
        limit=IntOrString(str(limit)),  # the Argo schema types IntOrString as a string
        # Always: the expression alone decides; OnFailure would never retry an Error node.
        retry_policy="Always",
        expression=RETRY_EXPRESSION,
        backoff=Backoff(
            duration=str(FIRST_BACKOFF_SECONDS),
            factor=IntOrString(str(BACKOFF_FACTOR)),
            cap=str(BACKOFF_CAP_SECONDS),
            max_duration=str(max_duration_seconds),
        ),
    )
