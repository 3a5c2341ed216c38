"""Publisher that keeps a run's dbt artifacts on S3 when WORKBENCH_ARTIFACTS_URL is set."""

from __future__ import annotations

import os

import structlog

from workbench.config import PostgresSettings, dbt_project_dir
from workbench.observability.records import InvocationResult

log = structlog.get_logger("workbench.run")


def publish_artifacts(result: InvocationResult, settings: PostgresSettings) -> None:
    """Upload run_results.json and manifest.json; an S3 failure is logged, never raised."""
    # Imported here so that runs without an artifacts bucket never load boto3.
    from workbench.config import resolve_target_path
    from workbench.run.s3_artifacts import publish_run_artifacts

    try:
        target = resolve_target_path(None, dbt_project_dir(), os.environ)
        published = publish_run_artifacts(target, result.layer, os.environ)
    except Exception as exc:  # an S3 outage must not change the exit code
        log.warning("artifacts_publish_failed", layer=result.layer, error=str(exc))
        return
    if published is not None:
        log.info("artifacts_published", layer=result.layer, version_url=published.version_url)


def artifacts_configured() -> bool:
    return bool(os.environ.get("WORKBENCH_ARTIFACTS_URL"))
