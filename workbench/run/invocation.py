"""One `workbench run`: lock the layer, dbt build, log every node, record and publish the result."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import structlog

from workbench.config import PostgresSettings, resolve_target_path
from workbench.contract import ExitCode
from workbench.db import connect, connection_failure
from workbench.exit_codes import classify_build, classify_database_error, is_connection_error
from workbench.observability.records import InvocationResult, NodeResult
from workbench.params import RunParams
from workbench.preparsed import PARTIAL_PARSE_ENV, reuse_blockers
from workbench.run.console import ConsoleReport, is_hook
from workbench.run.dbt_build import build_args, retry_args, run_dbt_build
from workbench.run.lock import LockTimeoutError, layer_locks
from workbench.run.node_count import count_build_nodes
from workbench.run.progress import ProgressFile
from workbench.run.resume import ResumePoint, code_comparison, resumable_results
from workbench.run.unchanged import UnchangedCheck

BoundLogger = Any
log: BoundLogger = structlog.get_logger("workbench.run")

# Called with the finished invocation (history, metrics). Each must log its own failures and
# never raise: recording a run never changes its exit code.
Publisher = Callable[[InvocationResult, PostgresSettings], None]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Progress:
    """What is known so far; filled in as the run gets further."""

    started: datetime = field(default_factory=_now)
    finished: datetime | None = None
    lock_wait: float = 0.0
    exit_code: ExitCode = ExitCode.RUNTIME_ERROR
    error: str | None = None
    nodes: list[NodeResult] = field(default_factory=list)
    dbt_invocation_id: str | None = None
    folders: dict[str, str] = field(default_factory=dict)
    parents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    log: BoundLogger = field(default_factory=lambda: log)
    progress_file: ProgressFile | None = None  # Argo's ARGO_PROGRESS_FILE, when set
    resume: ResumePoint | None = None  # a failed attempt this run retries with `dbt retry`
    resumable: bytes | None = None  # this run's run_results.json, kept when it failed
    unchanged: UnchangedCheck | None = None  # skips the build when nothing is new
    fingerprint: str | None = None
    nothing_new: bool = False
    database_reachable: bool = True
    console: ConsoleReport | None = None  # a person's terminal: progress bar, not node events


def _log_node(logger: BoundLogger, layer: str, node: NodeResult) -> None:
    method = logger.error if node.failed else logger.info
    method(
        "dbt_node",
        layer=layer,
        node_id=node.unique_id,
        resource_type=node.resource_type,
        status=node.status,
        duration_seconds=round(node.duration_seconds, 3),
        rows_affected=node.rows_affected,
        failures=node.failures,
        message=node.message,
    )


def _log_preparsed_reuse(logger: BoundLogger, params: RunParams) -> None:
    """Say up front whether the image's pre-parsed manifest will spare this run a full parse."""
    if not os.environ.get(PARTIAL_PARSE_ENV):
        return
    blockers = reuse_blockers(os.environ)
    if params.vars:
        blockers.append("--vars differ from the image build")
    logger.info("preparsed_manifest", reused=not blockers, blockers=blockers)


def _build(params: RunParams, project_dir: Path, progress: _Progress) -> None:
    # dbt calls back from its worker threads, where contextvars are not bound: bind explicitly.
    logger = progress.log
    _log_preparsed_reuse(logger, params)
    progress_file = progress.progress_file
    console = progress.console
    # The progress total is counted with dbt's selection before the build (node_count.py);
    # only when someone watches it, since it costs a parse. A retry's selection comes from the
    # failed run's results, which `dbt ls` cannot repeat: it starts from dbt's ConcurrencyLine,
    # and the total grows with the nodes dbt starts (NodeTally).
    watched = progress_file is not None or (console is not None and console.progress_bar)
    counted = None
    if watched and progress.resume is None:
        counted = count_build_nodes(params, project_dir)

    def on_node(node: NodeResult) -> None:
        if console is not None:
            console.node(node)
        else:
            _log_node(logger, params.layer, node)
        if progress_file is not None and not is_hook(node):
            progress_file.node_finished()

    def on_start(dbt_count: int) -> None:
        total = counted if counted is not None else dbt_count
        if progress_file is not None:
            progress_file.start(total)
        if console is not None:
            console.start(total)

    def on_node_start() -> None:
        if progress_file is not None:
            progress_file.node_started()
        if console is not None:
            console.node_started()

    target = resolve_target_path(None, project_dir, os.environ)
    args = build_args(params, project_dir)
    if progress.resume is not None:
        logger.info(
            "dbt_retry",
            layer=params.layer,
            retry_of=progress.resume.invocation_id,
            nodes_to_retry=progress.resume.nodes_to_retry(),
            **code_comparison(progress.resume),
        )
        progress.resume.place_in(target)
        args = retry_args(project_dir)
    outcome = run_dbt_build(args, on_node, on_start=on_start, on_node_start=on_node_start)
    progress.nodes, progress.dbt_invocation_id = outcome.nodes, outcome.dbt_invocation_id
    progress.folders, progress.parents = outcome.folders, outcome.parents
    progress.exit_code = classify_build(
        success=outcome.success,
        exception=outcome.exception,
        completed=outcome.completed,
        node_messages=[node.message for node in outcome.nodes if node.failed],
    )
    if not outcome.success and outcome.completed and outcome.exception is None:
        # dbt got to the end: what failed or was skipped is known, so a rerun can resume.
        progress.resumable = resumable_results(target, outcome.dbt_invocation_id)
    if isinstance(outcome.exception, KeyboardInterrupt):
        progress.error = f"interrupted: {outcome.exception}"
    elif outcome.exception is not None:
        progress.error = f"{type(outcome.exception).__name__}: {outcome.exception}"
    elif progress.exit_code == ExitCode.RUNTIME_ERROR:
        failed = [node.message for node in outcome.nodes if node.failed]
        lost = any(is_connection_error(message) for message in failed)
        progress.error = (
            "database connection lost during the run"
            if lost
            else "a transient database conflict (deadlock, serialization failure or lock "
            "timeout) failed a node; a retry runs it again"
        )
    elif progress.exit_code == ExitCode.CONFIGURATION_ERROR:
        progress.error = "PostgreSQL refused the connection settings (user, password or database)"


def _nothing_new(conn: Any, params: RunParams, progress: _Progress) -> bool:
    """Decide (under the locks) whether the layer has new input; True = skip the build."""
    check = progress.unchanged
    if check is None:
        return False
    # a resumed run rebuilt only part of the layer: its inputs are no baseline for the next
    eligible = not (params.select or params.exclude or params.full_refresh or progress.resume)
    decision = check.decide(conn, params.layer, params.vars, eligible=eligible)
    progress.fingerprint = decision.fingerprint
    progress.log.info(
        "nothing_new" if decision.skip else "input_check",
        layer=params.layer,
        skip=decision.skip,
        reason=decision.reason,
        previous_invocation_id=decision.previous_invocation_id,
    )
    if decision.skip:
        progress.nothing_new, progress.exit_code = True, ExitCode.SUCCESS
    return decision.skip


def _locked_build(
    params: RunParams, settings: PostgresSettings, project_dir: Path, progress: _Progress
) -> None:
    logger = progress.log

    def waiting(name: str) -> None:
        logger.info(
            "lock_waiting",
            layer=params.layer,
            lock=name,
            timeout_seconds=params.lock_timeout_seconds,
        )

    try:
        with connect(settings, autocommit=True) as lock_conn:
            lock_conn.execute("set application_name = 'dbt-workbench-lock'")
            with layer_locks(
                lock_conn,
                params.layer,
                params.lock_timeout_seconds,
                custom_selection=bool(params.select or params.exclude),
                on_wait=waiting,
            ) as waited:
                progress.lock_wait, progress.started = waited, _now()
                if _nothing_new(lock_conn, params, progress):
                    progress.finished = _now()
                    return
                logger.info(
                    "dbt_build_started",
                    layer=params.layer,
                    selection=params.selection,
                    lock_wait_seconds=round(waited, 3),
                )
                _build(params, project_dir, progress)
                # Stamped while the locks are held: recorded intervals of one layer never overlap.
                progress.finished = _now()
    except LockTimeoutError as exc:
        progress.lock_wait, progress.error = params.lock_timeout_seconds, str(exc)
    except KeyboardInterrupt as exc:
        progress.exit_code, progress.error = ExitCode.RUNTIME_ERROR, f"interrupted: {exc}"
    except psycopg.Error as exc:
        progress.exit_code = classify_database_error(str(exc))
        progress.error = connection_failure(settings, exc)
        progress.database_reachable = False


def run_layer(
    params: RunParams,
    settings: PostgresSettings,
    project_dir: Path,
    labels: Mapping[str, str | None],
    publishers: tuple[Publisher, ...] = (),
    progress_file: ProgressFile | None = None,
    resume: ResumePoint | None = None,
    unchanged: UnchangedCheck | None = None,
    console: ConsoleReport | None = None,
) -> InvocationResult:
    invocation_id = str(uuid.uuid4())
    present = {key: value for key, value in labels.items() if value}
    progress = _Progress(
        log=log.bind(invocation_id=invocation_id, **present),
        progress_file=progress_file,
        resume=resume,
        unchanged=unchanged,
        console=console,
    )
    _locked_build(params, settings, project_dir, progress)
    result = InvocationResult(
        invocation_id=invocation_id,
        layer=params.layer,
        selection=params.selection,
        select=params.select,
        exclude=params.exclude,
        full_refresh=params.full_refresh,
        vars=params.vars,
        started_at=progress.started,
        finished_at=progress.finished or _now(),
        lock_wait_seconds=progress.lock_wait,
        exit_code=int(progress.exit_code),
        error=progress.error,
        dbt_invocation_id=progress.dbt_invocation_id,
        labels=labels,
        nodes=tuple(progress.nodes),
        retry_of=resume.invocation_id if resume is not None else None,
        resumable_results=progress.resumable,
        input_fingerprint=progress.fingerprint,
        nothing_new=progress.nothing_new,
        database_reachable=progress.database_reachable,
    )
    for publish in publishers:
        publish(result, settings)
    if console is not None:
        console.finish(result, progress.folders, progress.parents)
    else:
        _log_invocation(progress.log, result)
    return result


def _log_invocation(logger: BoundLogger, result: InvocationResult) -> None:
    method = logger.info if result.success else logger.error
    method(
        "dbt_invocation",
        dbt_invocation_id=result.dbt_invocation_id,
        layer=result.layer,
        selection=result.selection,
        full_refresh=result.full_refresh,
        retry_of=result.retry_of,
        nothing_new=result.nothing_new,
        exit_code=result.exit_code,
        success=result.success,
        duration_seconds=round(result.duration_seconds, 3),
        lock_wait_seconds=round(result.lock_wait_seconds, 3),
        nodes_total=len(result.nodes),
        nodes_by_status=result.node_counts(),
        tests_failed=result.tests_failed,
        failed_nodes=[node.unique_id for node in result.nodes if node.failed],
        error=result.error,
    )
