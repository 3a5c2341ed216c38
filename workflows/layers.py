"""When each medallion layer runs: the single source of truth for schedules.

What a layer *selects* lives in ``dbt/selectors.yml`` (selector name = layer name); this
table says when, in which timezone, for how long and with how many retries. The renderer
turns every row with schedules into a CronWorkflow, and the chart's staleness alerts are
derived from the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.contract import BUSINESS_TIMEZONE, LAYER_LOCKS

OFF_SCHEDULE_FAILURES = 3
RUN_ENTRYPOINT = "dbt-run"
DOCS_ENTRYPOINT = "docs-publish"
# The daily bronze run when the chart's values configure pulls (`ingest.pulls`): a DAG whose
# pull step (`workbench ingest --sources`) runs first, then the layer's dbt-run whatever the
# pull's outcome (workflows.template).
PULL_RUN_ENTRYPOINT = "pull-then-run"
# One pull step's time and retry budget (exit 2 retried within it, as every template's).
PULL_TIMEOUT_SECONDS = 30 * 60
PULL_RETRY_LIMIT = 2

HOUR = 3600
DAY = 24 * HOUR

# How long finished Workflows stay (ttlStrategy): successes a day, failures a week for a look.
SECONDS_AFTER_SUCCESS = DAY
SECONDS_AFTER_FAILURE = 7 * DAY


@dataclass(frozen=True)
class Job:
    """One kind of run: a dbt layer build (or the docs publish) and its cadence."""

    name: str  # CronWorkflow suffix and key under `cronWorkflows` in the chart values
    values_key: str  # camelCase key in values.yaml (Helm cannot address keys with '-')
    layer: str  # `workbench run --layer`, or "docs" for the docs publish
    description: str
    schedules: tuple[str, ...]  # cron expressions; empty = on demand only (no CronWorkflow)
    interval_seconds: int  # expected gap between scheduled runs (for staleness alerts)
    # Deadline of one attempt and of the whole retry window (backoff.maxDuration), counted from
    # the first attempt's start; the run's template reads it by layer (workflows.budget).
    timeout_seconds: int
    retry_limit: int  # retries of exit code 2 (runtime errors); exit 1 is never retried
    full_refresh: bool = False
    entrypoint: str = RUN_ENTRYPOINT
    # Runs the chart's configured pulls first (PULL_RUN_ENTRYPOINT) when there are any.
    pulls_first: bool = False
    timezone: str = BUSINESS_TIMEZONE

    @property
    def scheduled(self) -> bool:
        return bool(self.schedules)

    @property
    def failed_history_limit(self) -> int:
        """Failed Workflows a CronWorkflow keeps: every failed run of its default schedule
        until the TTL deletes it (the cron deletes the oldest beyond its limit), plus a few
        off-schedule `argo submit --from cronwf` runs."""
        runs_within_ttl = -(-SECONDS_AFTER_FAILURE // self.interval_seconds)
        return runs_within_ttl + OFF_SCHEDULE_FAILURES

    @property
    def stale_after_seconds(self) -> int:
        """No success for one interval, one full hold (the pull, when the job pulls first, and
        the build) and the longest scheduled job it can queue behind, plus 15 min grace =
        stale. A run that also rebuilds this layer counts
        as its success (`fresh_from`), so a chain of such blockers adds no more than one."""
        return self.interval_seconds + self.held_seconds + self.longest_blocker_seconds + 15 * 60

    @property
    def held_seconds(self) -> int:
        """The longest a scheduled run holds its layers' mutexes (workflow-level, so the pull
        before the build holds them too): the pull's budget and the build's."""
        return (PULL_TIMEOUT_SECONDS if self.pulls_first else 0) + self.timeout_seconds

    @property
    def longest_blocker_seconds(self) -> int:
        """The longest hold of another scheduled layer job sharing one of this job's locks:
        while it runs, this layer's run queues on the mutex and its cron ticks are skipped."""
        own = set(LAYER_LOCKS[self.layer])
        return max(
            (
                other.held_seconds
                for other in scheduled_jobs()
                if other != self
                and other.entrypoint == RUN_ENTRYPOINT
                and own & set(LAYER_LOCKS[other.layer])
            ),
            default=0,
        )

    @property
    def fresh_from(self) -> tuple[str, ...]:
        """Layers whose successful run rebuilds this one too (their locks include all of its:
        maintenance and the full refresh rebuild silver), so their success is this layer's."""
        own = set(LAYER_LOCKS[self.layer])
        return tuple(layer for layer, locks in LAYER_LOCKS.items() if own <= set(locks))


JOBS: tuple[Job, ...] = (
    Job(
        name="bronze",
        values_key="bronze",
        layer="bronze",
        description="Daily batch: land new raw records into the bronze layer.",
        schedules=("30 1 * * *",),
        interval_seconds=DAY,
        timeout_seconds=2 * HOUR,
        retry_limit=3,
        pulls_first=True,
    ),
    Job(
        name="silver",
        values_key="silver",
        layer="silver",
        description="Hourly: validate, deduplicate and reject into the silver layer.",
        schedules=("15 * * * *",),
        interval_seconds=HOUR,
        timeout_seconds=45 * 60,
        retry_limit=3,
    ),
    Job(
        name="gold",
        values_key="gold",
        layer="gold",
        description="Every 6 hours: monthly summaries and weekly category trends.",
        schedules=("45 */6 * * *",),
        interval_seconds=6 * HOUR,
        timeout_seconds=HOUR,
        retry_limit=2,
    ),
    Job(
        name="platinum",
        values_key="platinum",
        layer="platinum",
        description="On demand: embedding texts and recommendations, then their vectors (embed).",
        schedules=(),
        interval_seconds=0,
        timeout_seconds=30 * 60,
        retry_limit=2,
    ),
    Job(
        name="maintenance",
        values_key="maintenance",
        layer="maintenance",
        description="Daily: silver and gold and everything downstream (silver+ gold+).",
        schedules=("0 3 * * *",),
        interval_seconds=DAY,
        timeout_seconds=3 * HOUR,
        retry_limit=2,
    ),
    Job(
        name="full-refresh",
        values_key="fullRefresh",
        layer="all",
        description="Weekly, Sunday: rebuild every layer from scratch (--full-refresh).",
        schedules=("0 4 * * 0",),
        interval_seconds=7 * DAY,
        timeout_seconds=6 * HOUR,
        retry_limit=1,
        full_refresh=True,
    ),
    Job(
        name="docs",
        values_key="docs",
        layer="docs",
        description="Daily: generate dbt docs and publish them to S3.",
        schedules=("30 5 * * *",),
        interval_seconds=DAY,
        timeout_seconds=30 * 60,
        retry_limit=2,
        entrypoint=DOCS_ENTRYPOINT,
    ),
)

# The budget of a run whose selection is custom (--select/--exclude replace the layer's
# selector, so no row describes it), and the workflow-level deadline every run carries as an
# outer bound (an integer field: it cannot depend on the layer): the longest timeout and a
# middle retry budget.
ON_DEMAND_TIMEOUT_SECONDS = max(job.timeout_seconds for job in JOBS)
ON_DEMAND_RETRY_LIMIT = 2
DEFAULT_LAYER = "silver"


def scheduled_jobs() -> tuple[Job, ...]:
    return tuple(job for job in JOBS if job.scheduled)


def job_of_layer() -> dict[str, Job]:
    """`workbench run --layer` value -> the row whose time and retry budget it gets, on every
    path (cron, webhook, `argo submit --from`, `workbench submit`)."""
    rows: dict[str, Job] = {}
    for job in JOBS:
        if job.entrypoint != RUN_ENTRYPOINT:
            continue
        if job.layer in rows:
            raise ValueError(f"two rows for layer {job.layer}: {rows[job.layer].name}, {job.name}")
        rows[job.layer] = job
    return rows


def job_of_entrypoint(entrypoint: str) -> Job:
    """The one row of an entrypoint that is not a layer build (the docs publish)."""
    (job,) = [job for job in JOBS if job.entrypoint == entrypoint]
    return job
