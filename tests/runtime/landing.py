"""Put sample-data files into raw landing for runner tests (a plain INSERT, not `ingest`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import psycopg

from workbench.ingest.schema import ensure_raw_schema


def _json_text(raw: bytes) -> str | None:
    """The line if it is valid UTF-8 JSON without NUL (what jsonb accepts); None otherwise."""
    try:
        text = raw.decode("utf-8")
        json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return None if "\\u0000" in text else text


def land_jsonl(conn: psycopg.Connection[tuple[object, ...]], path: Path, entity: str) -> int:
    """Insert every parseable line of a JSON Lines file into raw.<entity>; returns the count."""
    ensure_raw_schema(conn)
    rows = []
    for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
        text = _json_text(raw)
        if text is not None:
            digest = hashlib.sha256(raw).hexdigest()
            rows.append((text, "jsonl", path.name, number, "runtime-tests", digest))
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            f"insert into raw.{entity} (payload, source, source_file, source_row, batch_id,"
            " payload_sha256) values (%s::jsonb, %s, %s, %s, %s, %s)",
            rows,
        )
    return len(rows)
