"""`workbench run --layer L`: dbt build of one layer's selector (see docs/operate.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import psycopg
import structlog

from workbench.config import ConfigError, PostgresSettings, dbt_project_dir, resolve_target_path
from workbench.contract import ExitCode
from workbench.exit_codes import classify_database_error
from workbench.observability.history import read_last_success, record_history
from workbench.observability.labels import argo_labels
from workbench.observability.logging import ensure_logging_configured
from workbench.observability.metrics import MetricsPusher
from workbench.params import (
    LOCK_TIMEOUT_ENV,
    ParamError,
    add_selection_arguments,
    parse_run_params,
)
from workbench.preparsed import PARTIAL_PARSE_ENV
from workbench.run.artifacts import artifacts_configured, publish_artifacts
from workbench.run.console import ConsoleReport
from workbench.run.invocation import Publisher, run_layer
from workbench.run.outputs import OutputWriter
from workbench.run.progress import ProgressFile
from workbench.run.resume import find_resume_point
from workbench.run.unchanged import UnchangedCheck
from workbench.signals import sigterm_as_interrupt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_selection_arguments(parser)
    parser.add_argument(
        "--vars", default="", help="JSON object, e.g. '{\"anomaly_z_threshold\": 2.5}'"
    )
    parser.add_argument(
        "--lock-timeout",
        default="",
        metavar="SECONDS",
        help=f"wait this long for the layer lock (env {LOCK_TIMEOUT_ENV}; default 600)",
    )
    parser.add_argument(
        "--retry-of",
        default="",
        metavar="INVOCATION_ID",
        help="rerun only what failed or was skipped in that run (dbt retry); "
        "ids are in ops.dbt_invocations",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="build even when nothing is new since the layer's last successful run",
    )


def manifest_candidates(project_dir: Path) -> tuple[Path, ...]:
    """Where the layer's inputs are read from: the last run's manifest, then the image's."""
    found = [resolve_target_path(None, project_dir, os.environ) / "manifest.json"]
    preparsed = os.environ.get(PARTIAL_PARSE_ENV, "").strip()
    if preparsed:
        found.append(Path(preparsed).parent / "manifest.json")
    return tuple(found)


def execute(args: argparse.Namespace) -> int:
    ensure_logging_configured()
    log = structlog.get_logger("workbench.run")
    labels = argo_labels()
    try:
        params = parse_run_params(
            layer=args.layer,
            select=args.select,
            exclude=args.exclude,
            full_refresh=args.full_refresh,
            vars_json=args.vars,
            lock_timeout=args.lock_timeout,
        )
        settings = PostgresSettings.from_env()
    except (ParamError, ConfigError) as exc:
        log.error("invalid_parameters", error=str(exc), **labels)
        return int(ExitCode.CONFIGURATION_ERROR)
    project_dir = dbt_project_dir()
    if not (project_dir / "dbt_project.yml").is_file():
        log.error("dbt_project_missing", project_dir=str(project_dir), hint="set DBT_PROJECT_DIR")
        return int(ExitCode.CONFIGURATION_ERROR)
    try:
        resume = find_resume_point(
            settings, params, labels.get("workflow_uid"), args.retry_of.strip() or None
        )
    except ParamError as exc:
        log.error("invalid_parameters", error=str(exc), **labels)
        return int(ExitCode.CONFIGURATION_ERROR)
    except psycopg.Error as exc:
        log.error("retry_of_unreadable", error=str(exc), **labels)
        return int(classify_database_error(str(exc)))
    publishers: list[Publisher] = [record_history]
    pusher = MetricsPusher.from_env(read_last_success)
    if pusher is not None:
        publishers.append(pusher)
    if artifacts_configured():
        publishers.append(publish_artifacts)
    outputs = OutputWriter.from_env()
    if outputs is not None:
        publishers.append(outputs)
    console = None
    if getattr(args, "log_format", "json") == "console":
        console = ConsoleReport(sys.stderr, progress_bar=sys.stderr.isatty())
    with sigterm_as_interrupt():
        result = run_layer(
            params,
            settings,
            project_dir,
            labels,
            tuple(publishers),
            ProgressFile.from_env(),
            resume,
            UnchangedCheck(project_dir, manifest_candidates(project_dir), force=args.force),
            console,
        )
    return result.exit_code
