"""One CronWorkflow per scheduled row of the layer table, all through workflowTemplateRef."""

from __future__ import annotations

from hera.workflows import CronWorkflow, Parameter
from hera.workflows.models import WorkflowTemplateRef

from workbench.contract import run_arguments
from workflows.layers import RUN_ENTRYPOINT, Job
from workflows.template import TEMPLATE_NAME_PLACEHOLDER

# A missed start older than this is skipped (a later tick will run instead).
STARTING_DEADLINE_SECONDS = 600
SUCCESSFUL_HISTORY = 3


def cron_name_placeholder(job: Job) -> str:
    return f"{TEMPLATE_NAME_PLACEHOLDER}-{job.name}"


def _arguments(job: Job) -> list[Parameter]:
    if job.entrypoint != RUN_ENTRYPOINT:
        return []
    arguments = run_arguments(job.layer, full_refresh=job.full_refresh)
    return [Parameter(name=name, value=value) for name, value in arguments.items()]


def build_cron_workflow(job: Job) -> CronWorkflow:
    if not job.scheduled:
        raise ValueError(f"job {job.name} has no schedule; it runs on demand only")
    return CronWorkflow(
        name=cron_name_placeholder(job),
        annotations={
            "workflows.argoproj.io/title": f"dbt Workbench: {job.name}",
            "workflows.argoproj.io/description": job.description,
        },
        schedules=list(job.schedules),
        timezone=job.timezone,
        concurrency_policy="Forbid",
        starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
        successful_jobs_history_limit=SUCCESSFUL_HISTORY,
        failed_jobs_history_limit=job.failed_history_limit,
        workflow_template_ref=WorkflowTemplateRef(name=TEMPLATE_NAME_PLACEHOLDER),
        entrypoint=None if job.entrypoint == RUN_ENTRYPOINT else job.entrypoint,
        # Parameters only: the template reads this job's time and retry budget from its layer
        # (workflows.budget), the same for every path that starts a run.
        arguments=_arguments(job) or None,
    )
