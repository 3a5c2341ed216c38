"""`workbench docs`: generate dbt docs, optionally publish them (and the run's artifacts) to S3.

Exit codes follow `workbench run` (workbench.exit_codes.ExitCode): a model that does not
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

from workbench.config import (
    ConfigError,
    PostgresSettings,
    dbt_project_dir,
    resolve_log_path,
    resolve_target_path,
)
from workbench.contract import ExitCode
from workbench.db import DatabaseUnreachable, check_connection
from workbench.docs.generate import (
    DocsGenerationError,
    GeneratedDocs,
    generate_docs,
)
from workbench.docs.serve import DEFAULT_PORT, make_server, missing_site_files, serve
from workbench.preparsed import PARTIAL_PARSE_ENV, reuse_blockers
from workbench.signals import sigterm_as_interrupt
from workbench.storage.location import S3Location
from workbench.storage.publish import PublishError, plan_files, publish
from workbench.storage.s3client import make_s3_client
from workbench.storage.version import default_version_id, validate_version_id

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
    parser.add_argument(
        "--serve",
        action="store_true",
        help="serve the docs already generated in the target path on http://127.0.0.1 "
        "(like `dbt docs serve`; nothing is generated; Ctrl-C stops it)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port for --serve (default {DEFAULT_PORT}; 0 picks a free one)",
    )


def execute(args: argparse.Namespace) -> int:
    _configure_logging()
    if args.serve:
        return _serve(args)
    try:
        location = S3Location.parse(args.publish) if args.publish else None
        version_id = validate_version_id(args.version_id) if args.version_id else ""
    except ValueError as exc:
        log.error("docs_invalid_arguments", error=str(exc))
        return int(ExitCode.CONFIGURATION_ERROR)
    try:
        check_connection(PostgresSettings.from_env())
    except (ConfigError, DatabaseUnreachable) as exc:
        code = getattr(exc, "exit_code", ExitCode.CONFIGURATION_ERROR)
        log.error("docs_generate_failed", error=str(exc), exit_code=code)
        return int(code)
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


def _serve(args: argparse.Namespace) -> int:
    if args.publish:
        log.error("docs_invalid_arguments", error="--serve and --publish do not combine")
        return int(ExitCode.CONFIGURATION_ERROR)
    target_path = resolve_target_path(args.target_path, dbt_project_dir(), os.environ)
    missing = missing_site_files(target_path)
    if missing:
        log.error(
            "docs_not_generated",
            target_path=str(target_path),
            missing=missing,
            hint="run `workbench docs` first (it needs the database for the catalog)",
        )
        return int(ExitCode.CONFIGURATION_ERROR)
    try:
        server = make_server(target_path, args.port)
    except OSError as exc:
        log.error("docs_serve_failed", port=args.port, error=str(exc), hint="try --port 0")
        return int(ExitCode.CONFIGURATION_ERROR)

    def ready(url: str) -> None:
        log.info("docs_serving", url=url, directory=str(target_path), stop="Ctrl-C")

    with sigterm_as_interrupt():
        serve(server, ready)
    log.info("docs_serve_stopped")
    return int(ExitCode.SUCCESS)


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
