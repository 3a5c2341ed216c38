"""One request's records into raw.<entity> and its rejected lines into raw.ingest_errors, by
binary COPY, in one transaction that also records the Idempotency-Key's answer.

The rows are the ones a landing file produces (workbench/ingest/copy_binary encodes both), with
`source = 'api'`, the request id as `batch_id` and `api/<request id>` as `source_file`, so
bronze, silver and the `ingest_errors` ledger treat an HTTP record exactly as a file's record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from workbench.ingest.copy_binary import (
    ERROR_COLUMNS,
    RECORD_COLUMNS,
    SIGNATURE,
    TRAILER,
    RecordEncoder,
    encode_errors,
)
from workbench.serve import idempotency
from workbench.serve.bodies import ParsedBody

SOURCE = "api"
# How many rejected lines an answer lists (all of them are in raw.ingest_errors).
ANSWER_ERRORS_SHOWN = 100


@dataclass(frozen=True)
class Request:
    entity: str
    request_id: str
    body_sha256: str
    idempotency_key: str | None = None

    @property
    def source_file(self) -> str:
        return f"{SOURCE}/{self.request_id}"


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False
    landed: int = 0
    errors: int = 0
    headers: dict[str, str] = field(default_factory=dict)


def answer_for(request: Request, parsed: ParsedBody) -> Answer:
    """202 with the counts when at least one record lands, else 400 with the reasons."""
    shown = [
        {"row": row, "reason": reason} for row, _, _, reason in parsed.errors[:ANSWER_ERRORS_SHOWN]
    ]
    body: dict[str, Any] = {
        "request_id": request.request_id,
        "entity": request.entity,
        "records": len(parsed.records),
        "errors": len(parsed.errors),
        "rejected": shown,
    }
    if not parsed.records:
        body["error"] = "no record in the body" + (
            "; every line is kept in raw.ingest_errors" if parsed.errors else ""
        )
    status = 202 if parsed.records else 400
    return Answer(status, body, landed=len(parsed.records), errors=len(parsed.errors))


async def land(
    conn: psycopg.AsyncConnection[Any],
    request: Request,
    parsed: ParsedBody,
    *,
    retention_seconds: float,
    key_wait_seconds: float,
) -> Answer:
    """Land and commit; the returned answer is only ever given once this returned."""
    async with conn.transaction():
        # An acknowledgement must survive a server crash, whatever the server's default.
        await conn.execute("set local synchronous_commit = on")
        key = request.idempotency_key
        if key is not None:
            replay = await idempotency.claim(
                conn,
                entity=request.entity,
                key=key,
                request_id=request.request_id,
                body_sha256=request.body_sha256,
                retention_seconds=retention_seconds,
                wait_seconds=key_wait_seconds,
            )
            if replay is not None:
                return _replayed(replay, key)
        answer = answer_for(request, parsed)
        async with conn.cursor() as cur:
            await _copy_records(cur, request, parsed)
            await _copy_errors(cur, request, parsed)
        if key is not None:
            await idempotency.remember(
                conn,
                entity=request.entity,
                key=key,
                status_code=answer.status_code,
                response=answer.body,
            )
    return answer


def _replayed(replay: idempotency.Replay, key: str) -> Answer:
    if not replay.same_body:
        return Answer(
            422,
            {
                "error": f"Idempotency-Key {key!r} was first used with a different body",
                "request_id": replay.response.get("request_id"),
            },
            replayed=True,
        )
    return Answer(
        replay.status_code,
        replay.response,
        replayed=True,
        headers={"Idempotent-Replayed": "true"},
    )


async def _copy_records(
    cur: psycopg.AsyncCursor[Any], request: Request, parsed: ParsedBody
) -> None:
    if not parsed.records:
        return
    encoder = RecordEncoder(
        source=SOURCE, source_file=request.source_file, batch_id=request.request_id
    )
    statement = sql.SQL("copy raw.{table} ({columns}) from stdin (format binary)").format(
        table=sql.Identifier(request.entity),
        columns=sql.SQL(", ").join(map(sql.Identifier, RECORD_COLUMNS)),
    )
    async with cur.copy(statement) as copy:
        await copy.write(SIGNATURE + encoder.encode(parsed.records) + TRAILER)


async def _copy_errors(cur: psycopg.AsyncCursor[Any], request: Request, parsed: ParsedBody) -> None:
    """Through a stage (the error encoder writes a file's three columns) into
    raw.ingest_errors; `source_file` is this request's own, so no line of it can be there."""
    if not parsed.errors:
        return
    await cur.execute(
        "create temp table serve_error_stage"
        " (source_row bigint, raw_text text, reason text) on commit drop"
    )
    columns = sql.SQL(", ").join(map(sql.Identifier, ERROR_COLUMNS))
    async with cur.copy(
        sql.SQL("copy serve_error_stage ({}) from stdin (format binary)").format(columns)
    ) as copy:
        await copy.write(SIGNATURE + encode_errors(parsed.errors) + TRAILER)
    await cur.execute(
        "insert into raw.ingest_errors"
        " (entity, source, source_file, source_row, raw_text, reason, batch_id)"
        " select %s, %s, %s, source_row, raw_text, reason, %s"
        " from serve_error_stage order by source_row",
        (request.entity, SOURCE, request.source_file, request.request_id),
    )
