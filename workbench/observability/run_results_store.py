"""ops.dbt_run_results: a failed run's dbt run_results.json, gzip-compressed, for `dbt retry`."""

from __future__ import annotations

import gzip

import psycopg

Connection = psycopg.Connection[tuple[object, ...]]


def store_run_results(conn: Connection, invocation_id: str, run_results: bytes) -> None:
    conn.execute(
        "insert into ops.dbt_run_results (invocation_id, run_results) values (%s, %s)",
        (invocation_id, gzip.compress(run_results)),
    )


def stored_bytes(value: object) -> bytes:
    """A run_results column value (bytea) as the JSON document it holds."""
    if not isinstance(value, bytes | memoryview):
        raise TypeError(f"ops.dbt_run_results.run_results is {type(value).__name__}, not bytea")
    return gzip.decompress(bytes(value))
