"""raw.ingest_files: one row per landed file, the key to idempotent and fast landings.

A file name never landed before is copied straight into raw (nothing to compare against); a
file whose bytes hash to what the ledger recorded is skipped without touching raw; any other
file (same name, changed content, or landed before the ledger existed) is compared record by
record on (source_file, source_row, payload_sha256). A store that names a content version
(S3 ETag, Drive md5Checksum or Sheet version) is trusted when it matches the ledger's, so the
object is not even downloaded. A file judged a data failure (garbage) keeps its verdict in
`failure`: the same bytes again are reported failed again, never `unchanged`. A
transaction-scoped advisory lock per (entity, file) makes two landings of the same file take
turns, so the second sees the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

_LOCK_NAMESPACE = "workbench.ingest.file"


@dataclass(frozen=True)
class LandedFile:
    file_sha256: str | None  # None: landed before the ledger existed
    records: int
    errors: int
    failure: str | None = None  # why the file was a data failure; None: it landed
    source_version: str | None = None  # the store's content version (ETag, md5Checksum, ...)


def lock_file(cur: psycopg.Cursor[Any], entity: str, source_file: str) -> None:
    """Wait for any other landing of this file; released when the transaction ends."""
    cur.execute(
        "select pg_advisory_xact_lock(hashtextextended(%s, 0))",
        (f"{_LOCK_NAMESPACE}:{entity}:{source_file}",),
    )


def landed(cur: psycopg.Cursor[Any], entity: str, source_file: str) -> LandedFile | None:
    row = cur.execute(
        "select file_sha256, records, errors, failure, source_version from raw.ingest_files"
        " where entity = %s and source_file = %s",
        (entity, source_file),
    ).fetchone()
    return None if row is None else LandedFile(row[0], int(row[1]), int(row[2]), row[3], row[4])


def record(
    cur: psycopg.Cursor[Any],
    *,
    entity: str,
    source_file: str,
    file_sha256: str,
    records: int,
    errors: int,
    batch_id: str,
    failure: str | None = None,
    source_version: str | None = None,
) -> None:
    cur.execute(
        """
        insert into raw.ingest_files
            (entity, source_file, file_sha256, records, errors, batch_id, failure,
             source_version)
        values (%s, %s, %s, %s, %s, %s, %s, %s)
        on conflict (entity, source_file) do update
        set file_sha256 = excluded.file_sha256,
            records = excluded.records,
            errors = excluded.errors,
            batch_id = excluded.batch_id,
            failure = excluded.failure,
            source_version = excluded.source_version,
            landed_at = now()
        """,
        (entity, source_file, file_sha256, records, errors, batch_id, failure, source_version),
    )


def remember_version(
    cur: psycopg.Cursor[Any], entity: str, source_file: str, source_version: str
) -> None:
    """The store's version of content found unchanged by its hash, so the next look needs no
    download."""
    cur.execute(
        "update raw.ingest_files set source_version = %s where entity = %s and source_file = %s",
        (source_version, entity, source_file),
    )
