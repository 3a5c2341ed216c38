"""Watching and steering a run from another PostgreSQL session (gates, backends, locks)."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg

WAIT_TIMEOUT_SECONDS = 120.0

Conn = psycopg.Connection[tuple[object, ...]]


def conninfo(pg_env: dict[str, str]) -> str:
    return (
        f"host={pg_env['POSTGRES_HOST']} port={pg_env['POSTGRES_PORT']} "
        f"user={pg_env['POSTGRES_USER']} password={pg_env['POSTGRES_PASSWORD']} "
        f"dbname={pg_env['POSTGRES_DB']}"
    )


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll a condition (progress, not timing: the deadline only guards against a hang)."""
    deadline = time.monotonic() + WAIT_TIMEOUT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def backends_blocked_on_gate(conn: Conn, gate_key: int) -> list[int]:
    """PIDs of sessions waiting for the shared gate lock (the gated model's query)."""
    rows = conn.execute(
        """
        select l.pid from pg_locks l
        where l.locktype = 'advisory' and not l.granted and l.mode = 'ShareLock'
          and l.objsubid = 1 and ((l.classid::bigint << 32) | l.objid::bigint) = %s
        """,
        (gate_key,),
    ).fetchall()
    return [int(str(row[0])) for row in rows]


def lock_sessions(conn: Conn) -> int:
    """How many runner lock connections are open in this database."""
    row = conn.execute(
        "select count(*) from pg_stat_activity"
        " where application_name = 'dbt-workbench-lock' and datname = current_database()"
    ).fetchone()
    return int(str(row[0])) if row else 0
