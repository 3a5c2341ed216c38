"""Rerun from failure: resume a failed run with `dbt retry` instead of rebuilding the layer.

`dbt retry` reads the previous invocation's ``run_results.json`` from the target path and runs
only the nodes that failed, errored or were skipped there (dbt/task/retry.py). A retried pod or
an `argo retry` starts on an empty target dir, so every run that got to the end of its dbt
invocation without succeeding keeps its run_results in ``ops.dbt_run_results``; the next run of
the same Argo workflow (same workflow uid, layer and selection) puts it back and retries.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg
import structlog

from workbench.config import PostgresSettings
from workbench.contract import DBT_METADATA_ENV_PREFIX, IMAGE_METADATA_KEY, REVISION_METADATA_KEY
from workbench.db import connect
from workbench.observability.run_results_store import stored_bytes
from workbench.params import ParamError, RunParams

Connection = psycopg.Connection[tuple[object, ...]]
RUN_RESULTS_FILE = "run_results.json"
CODE_KEYS = (IMAGE_METADATA_KEY, REVISION_METADATA_KEY)

log = structlog.get_logger("workbench.run")


@dataclass(frozen=True)
class ResumePoint:
    """A failed invocation to resume from: its id and its dbt run_results.json."""

    invocation_id: str
    run_results: bytes

    def nodes_to_retry(self) -> list[str]:
        """What dbt retry will run: the failed, errored and skipped nodes (retry.py)."""
        results = json.loads(self.run_results)["results"]
        retryable = {"error", "fail", "skipped", "runtime error", "partial success"}
        return sorted(r["unique_id"] for r in results if r["status"] in retryable)

    def code(self) -> dict[str, str]:
        """The image and commit the failed run ran, as dbt recorded them (metadata.env)."""
        try:
            env = json.loads(self.run_results)["metadata"].get("env") or {}
        except (ValueError, KeyError, TypeError, AttributeError):
            env = {}
        return {key: str(env.get(key, "unknown")) for key in CODE_KEYS}

    def place_in(self, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        (target / RUN_RESULTS_FILE).write_bytes(self.run_results)


def resumable_results(target: Path, dbt_invocation_id: str | None) -> bytes | None:
    """This invocation's run_results.json, or None when dbt did not write one for it."""
    path = target / RUN_RESULTS_FILE
    try:
        raw = path.read_bytes()
        written_by = json.loads(raw)["metadata"]["invocation_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return raw if dbt_invocation_id and written_by == dbt_invocation_id else None


def _history_exists(conn: Connection) -> bool:
    row = conn.execute("select to_regclass('ops.dbt_run_results') is not null").fetchone()
    return bool(row and row[0])


def previous_attempt(conn: Connection, workflow_uid: str, params: RunParams) -> ResumePoint | None:
    """The newest failed attempt of this Argo workflow (same layer, selection and full-refresh)
    that left run results, unless an attempt succeeded after it; else None (a full build)."""
    if not _history_exists(conn):
        return None
    row = conn.execute(
        """
        select i.invocation_id::text, r.run_results
        from ops.dbt_invocations as i
        join ops.dbt_run_results as r using (invocation_id)
        where i.workflow_uid = %(uid)s and i.layer = %(layer)s and i.selection = %(selection)s
            and i.full_refresh = %(full_refresh)s
            and not exists (
                select 1 from ops.dbt_invocations as later
                where later.workflow_uid = i.workflow_uid and later.layer = i.layer
                    and later.selection = i.selection and later.full_refresh = i.full_refresh
                    and later.success and later.finished_at > i.finished_at
            )
        order by i.finished_at desc
        limit 1
        """,
        {
            "uid": workflow_uid,
            "layer": params.layer,
            "selection": params.selection,
            "full_refresh": params.full_refresh,
        },
    ).fetchone()
    if row is None:
        return None
    return ResumePoint(str(row[0]), stored_bytes(row[1]))


def named_invocation(conn: Connection, invocation_id: str, layer: str) -> ResumePoint:
    """`--retry-of ID`: that invocation's run results, or a ParamError saying why not."""
    try:
        uuid.UUID(invocation_id)
    except ValueError:
        raise ParamError(
            f"--retry-of must be an invocation id (a UUID); got {invocation_id!r}"
        ) from None
    if not _history_exists(conn):
        raise ParamError("--retry-of: this database has no run history (ops.dbt_invocations)")
    row = conn.execute(
        """
        select i.layer, i.success, r.run_results
        from ops.dbt_invocations as i
        left join ops.dbt_run_results as r using (invocation_id)
        where i.invocation_id = %s
        """,
        (invocation_id,),
    ).fetchone()
    if row is None:
        raise ParamError(f"--retry-of: no invocation {invocation_id} in ops.dbt_invocations")
    recorded_layer, succeeded, stored = row
    if recorded_layer != layer:
        raise ParamError(
            f"--retry-of: invocation {invocation_id} ran layer {recorded_layer}, not {layer}"
        )
    if succeeded:
        raise ParamError(f"--retry-of: invocation {invocation_id} succeeded; nothing to retry")
    if stored is None:
        raise ParamError(
            f"--retry-of: invocation {invocation_id} left no run results (it stopped before "
            "dbt finished); run the layer again without --retry-of"
        )
    return ResumePoint(invocation_id, stored_bytes(stored))


def find_resume_point(
    settings: PostgresSettings,
    params: RunParams,
    workflow_uid: str | None,
    retry_of: str | None,
) -> ResumePoint | None:
    """`--retry-of ID` (a person), else the failed previous attempt of this Argo workflow.

    Raises ParamError for a --retry-of that cannot be resumed. The automatic lookup never
    fails a run: when history cannot be read, the run builds the layer in full.
    """
    if retry_of is not None:
        if params.select or params.exclude or params.full_refresh or params.vars:
            raise ParamError(
                "--retry-of reruns the failed run's own selection, full-refresh and vars; "
                "leave out --select, --exclude, --full-refresh and --vars"
            )
        with connect(settings, autocommit=True) as conn:
            return named_invocation(conn, retry_of, params.layer)
    if not workflow_uid:
        return None
    try:
        with connect(settings, autocommit=True) as conn:
            return previous_attempt(conn, workflow_uid, params)
    except (psycopg.Error, OSError) as exc:
        log.warning("resume_lookup_failed", layer=params.layer, error=str(exc))
        return None


def current_code(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The image and commit this process runs (what dbt will record for it)."""
    env = os.environ if env is None else env
    return {key: env.get(DBT_METADATA_ENV_PREFIX + key, "unknown") for key in CODE_KEYS}


def code_comparison(point: ResumePoint, env: Mapping[str, str] | None = None) -> dict[str, object]:
    """Log fields: the resumed run's image/commit against the failed run's. `argo retry` reuses
    the Workflow's stored spec, so after a `helm upgrade` they are still the old ones."""
    now, then = current_code(env), point.code()
    return {
        "image": now[IMAGE_METADATA_KEY],
        "revision": now[REVISION_METADATA_KEY],
        "failed_run_image": then[IMAGE_METADATA_KEY],
        "failed_run_revision": then[REVISION_METADATA_KEY],
        "same_code_as_failed_run": now == then,
    }
