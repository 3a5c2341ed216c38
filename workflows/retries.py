"""What Argo retries, and for how long: the runtime's exit-code contract as a retryStrategy.

The exit codes are workbench.contract.ExitCode; the codes a retry cannot heal are its
FINAL_EXIT_CODES. The chart's alert rules read the same numbers from the generated layer table.
"""

from __future__ import annotations

from hera.workflows.models import Backoff, IntOrString, RetryStrategy

from workbench.contract import FINAL_EXIT_CODES

# Evaluated by the controller after a failed or errored attempt. lastRetry.status is the
# node phase: "Error" when Argo itself could not run or watch the pod (pod deleted, init or
# wait container failed, entrypoint look-up, pod creation); "Failed" when the main container
# failed or the pod was killed. lastRetry.exitCode is the main container's exit code, "-1"
# when it never terminated (evicted or deleted before it ran). So: retry every Error, and
# every Failed attempt except the two final exit codes - OOMKilled (137), eviction and a
# transient error (2) all retry.
RETRY_EXPRESSION = (
    'lastRetry.status == "Error" or asInt(lastRetry.exitCode) not in '
    f"[{', '.join(str(int(code)) for code in FINAL_EXIT_CODES)}]"
)

FIRST_BACKOFF_SECONDS = 60
BACKOFF_FACTOR = 2
# The longest single wait between two attempts.
BACKOFF_CAP_SECONDS = 10 * 60


def retry_strategy(limit: int, timeout_seconds: int) -> RetryStrategy:
    """Retries within the job's own timeout.

    `backoff.maxDuration` counts from the first attempt's start and also becomes every retry
    pod's deadline, so it is the job's timeout: a retry may start as long as the job still has
    time, and never runs past it. Durations are whole seconds, which Argo accepts unitless.
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
            max_duration=str(timeout_seconds),
        ),
    )
