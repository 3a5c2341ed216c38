"""Run history in PostgreSQL: ops.dbt_invocations and ops.dbt_node_results.

Migrations are numbered SQL files applied once each, recorded in ops.schema_migrations, under a
transaction-scoped advisory lock so concurrent runners cannot race on the DDL.
"""

from __future__ import annotations

import json
from datetime import datetime
from importlib import resources

import psycopg
import structlog

from workbench.config import PostgresSettings
from workbench.db import connect
from workbench.observability.records import InvocationResult
from workbench.observability.redact import redact_text, secret_values
from workbench.observability.run_results_store import store_run_results

Connection = psycopg.Connection[tuple[object, ...]]

# Two-int advisory key: ("dbtw", 100) — distinct from the layer locks (namespace, 1..4).
_MIGRATION_LOCK = (0x64627477, 100)
MESSAGE_MAX_CHARS = 4000

log = structlog.get_logger("workbench.history")


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every bundled migration, in order."""
    folder = resources.files("workbench.observability") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def ensure_history_schema(conn: Connection) -> list[int]:
    """Apply pending migrations; returns the versions applied now (empty when up to date)."""
    applied_now: list[int] = []
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s::int4, %s::int4)", _MIGRATION_LOCK)
        conn.execute("create schema if not exists ops")
        conn.execute(
            "create table if not exists ops.schema_migrations ("
            " version integer primary key, name text not null,"
            " applied_at timestamptz not null default now())"
        )
        done = {row[0] for row in conn.execute("select version from ops.schema_migrations")}
        for version, name, sql in migrations():
            if version in done:
                continue
            conn.execute(sql.encode())
            conn.execute(
                "insert into ops.schema_migrations (version, name) values (%s, %s)",
                (version, name),
            )
            applied_now.append(version)
    return applied_now


def _clip(text: str | None, secrets: tuple[str, ...]) -> str | None:
    return None if text is None else redact_text(text, secrets)[:MESSAGE_MAX_CHARS]


def write_invocation(conn: Connection, result: InvocationResult) -> None:
    secrets = secret_values()
    labels = result.labels
    with conn.transaction():
        conn.execute(
            """
            insert into ops.dbt_invocations (
                invocation_id, dbt_invocation_id, layer, selection, select_arg, exclude_arg,
                full_refresh, vars, started_at, finished_at, duration_seconds, lock_wait_seconds,
                exit_code, success, error, nodes_total, nodes_failed, tests_failed,
                workflow_name, workflow_uid, pod_name, pod_namespace, retry_of,
                input_fingerprint, nothing_new)
            values (%s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                    %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            (
                result.invocation_id,
                result.dbt_invocation_id,
                result.layer,
                result.selection,
                result.select,
                result.exclude,
                result.full_refresh,
                json.dumps(dict(result.vars)),
                result.started_at,
                result.finished_at,
                result.duration_seconds,
                result.lock_wait_seconds,
                result.exit_code,
                result.success,
                _clip(result.error, secrets),
                len(result.nodes),
                sum(1 for node in result.nodes if node.failed),
                result.tests_failed,
                labels.get("workflow_name"),
                labels.get("workflow_uid"),
                labels.get("pod_name"),
                labels.get("pod_namespace"),
                result.retry_of,
                result.input_fingerprint,
                result.nothing_new,
            ),
        )
        if result.resumable_results is not None:
            store_run_results(conn, result.invocation_id, result.resumable_results)
        with conn.cursor() as cur:
            cur.executemany(
                """
                insert into ops.dbt_node_results (
                    invocation_id, unique_id, node_name, resource_type, status, started_at,
                    finished_at, duration_seconds, rows_affected, failures, message)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                """,
                [
                    (
                        result.invocation_id,
                        node.unique_id,
                        node.name,
                        node.resource_type,
                        node.status,
                        node.started_at,
                        node.finished_at,
                        node.duration_seconds,
                        node.rows_affected,
                        node.failures,
                        _clip(node.message, secrets),
                    )
                    for node in result.nodes
                ],
            )


def last_success_at(conn: Connection, layer: str) -> datetime | None:
    row = conn.execute(
        # a --select/--exclude run built something else than the layer: not the layer's success
        "select max(finished_at) from ops.dbt_invocations where layer = %s and success"
        " and coalesce(select_arg, '') = '' and coalesce(exclude_arg, '') = ''",
        (layer,),
    ).fetchone()
    value = row[0] if row else None
    return value if isinstance(value, datetime) else None


def read_last_success(settings: PostgresSettings, layer: str) -> datetime | None:
    """The layer's last successful finish from history; None when unknown or unreachable."""
    try:
        with connect(settings, autocommit=True) as conn:
            return last_success_at(conn, layer)
    except (psycopg.Error, OSError) as exc:
        log.warning(
            "history_read_failed", layer=layer, error=redact_text(str(exc), secret_values())
        )
        return None


def record_history(result: InvocationResult, settings: PostgresSettings) -> None:
    """Publisher for run_layer: records the invocation; a failure is logged, never raised."""
    if not result.database_reachable:
        return  # the run's own error already says why: one line, not two
    try:
        with connect(settings, autocommit=True) as conn:
            ensure_history_schema(conn)
            write_invocation(conn, result)
    except (psycopg.Error, OSError) as exc:
        log.warning(
            "history_write_failed",
            invocation_id=result.invocation_id,
            error=redact_text(str(exc), secret_values()),
        )
