"""`workbench docs`: generate dbt docs, optionally publish them (and the run's artifacts) to S3.

Exit codes follow `workbench run` (workbench.run.exit_codes.ExitCode): a model that does not
compile is FAILURE, database or S3 trouble RUNTIME_ERROR (retried), bad arguments or a refused
login CONFIGURATION_ERROR.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import structlog

from workbench.config import dbt_project_dir
from workbench.docs.generate import (
    DocsGenerationError,
    GeneratedDocs,
    generate_docs,
    resolve_log_path,
    resolve_target_path,
)
from workbench.docs.location import S3Location
from workbench.docs.publish import PublishError, plan_files, publish
from workbench.docs.s3client import make_s3_client
from workbench.docs.version import default_version_id, validate_version_id
from workbench.preparsed import PARTIAL_PARSE_ENV, reuse_blockers
from workbench.run.exit_codes import ExitCode

log = structlog.get_logger("workbench.docs")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target-path",
        type=Path,
        default=None,
        help="where dbt writes the docs (default: $DBT_TARGET_PATH, else dbt/target)",
    )
    parser.add_argument(
        "--static",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also write the single-file static_index.html (default: on)",
    )
    parser.add_argument(
        "--publish",
        default="",
        metavar="s3://BUCKET/PREFIX",
        help="upload to S3 (endpoint, region and credentials from the standard AWS environment)",
    )
    parser.add_argument(
        "--version-id",
        default="",
        help="name of the versioned prefix (default: UTC timestamp + workflow uid, or random)",
    )


def execute(args: argparse.Namespace) -> int:
    _configure_logging()
    try:
        location = S3Location.parse(args.publish) if args.publish else None
        version_id = validate_version_id(args.version_id) if args.version_id else ""
    except ValueError as exc:
        log.error("docs_invalid_arguments", error=str(exc))
        return int(ExitCode.CONFIGURATION_ERROR)
    _log_preparsed_reuse()
    project_dir = dbt_project_dir()
    target_path = resolve_target_path(args.target_path, project_dir, os.environ)
    log_path = resolve_log_path(project_dir, os.environ)
    with tempfile.TemporaryDirectory(prefix="workbench-docs-") as keep_dir:
        try:
            docs = generate_docs(
                project_dir, target_path, log_path, Path(keep_dir), static=args.static
            )
        except DocsGenerationError as exc:
            log.error("docs_generate_failed", error=str(exc), exit_code=exc.exit_code)
            return int(exc.exit_code)
        log.info(
            "docs_generated",
            index=str(target_path / "index.html"),
            files=sorted(docs.site),
            artifacts=sorted(docs.artifacts),
        )
        if location is None:
            return int(ExitCode.SUCCESS)
        return _publish(docs, location, version_id)


def _publish(docs: GeneratedDocs, location: S3Location, version_id: str) -> int:
    now = datetime.now(UTC)
    version_id = version_id or default_version_id(now, os.environ)
    try:
        result = publish(
            make_s3_client(),
            location,
            version_id,
            plan_files(docs.site, docs.artifacts),
            published_at=now,
        )
    except (PublishError, ValueError) as exc:
        log.error("docs_publish_failed", error=str(exc), version_id=version_id)
        return int(ExitCode.RUNTIME_ERROR)
    log.info(
        "docs_published",
        version_id=result.version_id,
        version_url=result.version_url,
        latest_url=result.latest_url,
        files=len(result.files),
        stale_deleted=len(result.stale_deleted),
    )
    return int(ExitCode.SUCCESS)


def _log_preparsed_reuse() -> None:
    if PARTIAL_PARSE_ENV not in os.environ:
        return  # a laptop: dbt's own partial parsing in dbt/target applies
    blockers = reuse_blockers(os.environ)
    if blockers:
        log.warning("preparsed_manifest_not_reused", reasons=blockers)


def _configure_logging() -> None:
    from workbench.observability.logging import ensure_logging_configured

    ensure_logging_configured()
