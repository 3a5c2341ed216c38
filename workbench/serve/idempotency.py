"""raw.ingest_requests: what a request with an Idempotency-Key got, kept for a retention period.

The key is claimed inside the landing's own transaction (insert ... on conflict do nothing) and
the answer recorded before commit, so "landed" and "remembered" commit together. A second
request with a key whose first request is still in flight blocks on the key's unique index
until the first commits (then replays its answer) or rolls back (then lands itself), for at
most `wait_seconds` (contract.SERVE_IDEMPOTENCY_WAIT_SECONDS): after that it gets 409 with
Retry-After. A key older than the retention
period is forgotten: that request is new again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import errors
from psycopg.types.json import Jsonb

MAX_KEY_LENGTH = 255

LEDGER_DDL = """
create table if not exists raw.ingest_requests (
    entity          text        not null,
    idempotency_key text        not null,
    request_id      text        not null,
    body_sha256     text        not null,
    status_code     integer     not null,
    response        jsonb       not null,
    created_at      timestamptz not null default now(),
    primary key (entity, idempotency_key)
)
"""


class KeyInFlight(RuntimeError):
    """The same key's first request did not finish within the wait."""


@dataclass(frozen=True)
class Replay:
    status_code: int
    response: dict[str, Any]
    same_body: bool


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


async def claim(
    conn: psycopg.AsyncConnection[Any],
    *,
    entity: str,
    key: str,
    request_id: str,
    body_sha256: str,
    retention_seconds: float,
    wait_seconds: float,
) -> Replay | None:
    """None: this request owns the key (land, then :func:`remember`). Else the first answer."""
    milliseconds = max(1, int(wait_seconds * 1000))  # an int: nothing to inject
    await conn.execute(f"set local lock_timeout = {milliseconds}")
    try:
        await conn.execute(
            "delete from raw.ingest_requests where entity = %s and idempotency_key = %s"
            " and created_at < now() - make_interval(secs => %s)",
            (entity, key, retention_seconds),
        )
        claimed = await conn.execute(
            "insert into raw.ingest_requests"
            " (entity, idempotency_key, request_id, body_sha256, status_code, response)"
            " values (%s, %s, %s, %s, 0, '{}') on conflict do nothing returning request_id",
            (entity, key, request_id, body_sha256),
        )
    except errors.LockNotAvailable as error:
        raise KeyInFlight(key) from error
    if await claimed.fetchone() is not None:
        return None
    found = await conn.execute(
        "select status_code, response, body_sha256 from raw.ingest_requests"
        " where entity = %s and idempotency_key = %s",
        (entity, key),
    )
    row = await found.fetchone()
    if row is None:  # forgotten between the two statements (retention): a new request
        raise KeyInFlight(key)
    return Replay(int(row[0]), dict(row[1]), row[2] == body_sha256)


async def remember(
    conn: psycopg.AsyncConnection[Any],
    *,
    entity: str,
    key: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    await conn.execute(
        "update raw.ingest_requests set status_code = %s, response = %s"
        " where entity = %s and idempotency_key = %s",
        (status_code, Jsonb(response), entity, key),
    )


async def forget_expired(conn: psycopg.AsyncConnection[Any], retention_seconds: float) -> int:
    cursor = await conn.execute(
        "delete from raw.ingest_requests where created_at < now() - make_interval(secs => %s)",
        (retention_seconds,),
    )
    return cursor.rowcount
