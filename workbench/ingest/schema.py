"""DDL for the raw landing schema, exactly as the common contract states it.

`workbench ingest` calls :func:`ensure_raw_schema` before every load; dbt, the runner and tests
call it to get the same tables. Every statement is idempotent, and a transaction-scoped advisory
lock serialises concurrent callers (two `CREATE ... IF NOT EXISTS` racing on the catalog can
otherwise fail with a unique violation).
"""

from __future__ import annotations

from typing import Any

import psycopg

from workbench.contract import ENTITIES, SOURCES

RAW_SCHEMA = "raw"
RECORD_TABLES = ENTITIES
# Incremental bronze reads raw by these (dbt/macros/not_yet_in_bronze.sql).
BRIN_COLUMNS = ("raw_id", "ingested_at")
_SOURCES_SQL = ", ".join(f"'{source}'" for source in SOURCES)

# Any stable 64-bit number; it only has to differ from the runner's per-layer locks.
_DDL_LOCK_KEY = 7_361_904_122_001

_RECORD_TABLE_DDL = """
create table if not exists raw.{table} (
    raw_id          bigint generated always as identity,
    payload         jsonb       not null,
    source          text        not null
                    constraint {table}_source_check
                    check (source in ({sources})),
    source_file     text        not null,
    source_row      bigint      not null,
    batch_id        text        not null,
    payload_sha256  text        not null,
    ingested_at     timestamptz not null default now()
)
"""

_INGEST_ERRORS_DDL = """
create table if not exists raw.ingest_errors (
    error_id     bigint generated always as identity primary key,
    entity       text,
    source       text,
    source_file  text,
    source_row   bigint,
    raw_text     text,
    reason       text,
    batch_id     text,
    ingested_at  timestamptz default now(),
    constraint ingest_errors_entity_file_row_key unique (entity, source_file, source_row)
)
"""


_INGEST_FILES_DDL = """
create table if not exists raw.ingest_files (
    entity       text        not null,
    source_file  text        not null,
    file_sha256  text,
    records      bigint      not null,
    errors       bigint      not null,
    batch_id     text        not null,
    landed_at    timestamptz not null default now(),
    primary key (entity, source_file)
)
"""

# Added after the ledger first shipped, hence separate (and idempotent) statements:
# `failure` says why a file was a data failure (NULL: it landed); `source_version` is what the
# store says about the content without reading it (S3 ETag, Drive md5Checksum or version), so an
# unchanged object is skipped without downloading it.
_INGEST_FILES_COLUMNS = ("failure", "source_version")

# Files landed before the ledger existed: known by name, unknown hash, so a re-landing compares
# them record by record instead of copying them in again.
_BACKFILL_INGEST_FILES = """
insert into raw.ingest_files (entity, source_file, file_sha256, records, errors, batch_id)
select entity, source_file, null, sum(records), sum(errors), min(batch_id)
from (
    select 'transactions' as entity, source_file, count(*) as records, 0 as errors,
           min(batch_id) as batch_id
    from raw.transactions group by source_file
    union all
    select 'products', source_file, count(*), 0, min(batch_id)
    from raw.products group by source_file
    union all
    select entity, source_file, 0, count(*), coalesce(min(batch_id), '')
    from raw.ingest_errors where entity is not null and source_file is not null
    group by entity, source_file
) as landed
group by entity, source_file
on conflict (entity, source_file) do nothing
"""


def raw_schema_statements() -> list[str]:
    """The DDL, in order. Exposed so docs and tests can show exactly what runs."""
    statements = [f"create schema if not exists {RAW_SCHEMA}"]
    for table in RECORD_TABLES:
        statements.append(_RECORD_TABLE_DDL.format(table=table, sources=_SOURCES_SQL))
        # Incremental bronze reads the newest landings by raw_id and ingested_at. BRIN, not
        # B-tree: both grow with the physical order of this append-only table, and a BRIN index
        # costs a landing next to nothing, where each B-tree added 10-15% to a bulk COPY. raw_id
        # is unique by construction (an identity column, generated always) and tested by dbt.
        # autosummarize: a BRIN range is only skipped once summarized, which plain BRIN leaves
        # to the next VACUUM (for an insert-only table, after 20 % more rows): until then a
        # bronze micro-batch read every unsummarized range. With it, each filled range (128
        # pages, about 2,500 records) is summarized by autovacuum's next visit, a work item
        # queued by the insert that opens the next range: nothing more per record landed.
        # The `alter` turns it on for indexes created before.
        for column in BRIN_COLUMNS:
            statements.append(
                f"create index if not exists {table}_{column}_idx"
                f" on raw.{table} using brin ({column}) with (autosummarize = on)"
            )
            statements.append(f"alter index raw.{table}_{column}_idx set (autosummarize = on)")
    statements.append(_INGEST_ERRORS_DDL)
    statements.append(_INGEST_FILES_DDL)
    statements += [
        f"alter table raw.ingest_files add column if not exists {column} text"
        for column in _INGEST_FILES_COLUMNS
    ]
    return statements


def ensure_raw_schema(conn: psycopg.Connection[Any]) -> None:
    """Create schema `raw` and its tables when missing; safe to call any number of times.

    Runs in ``conn.transaction()``: committed on return unless the caller already holds an
    open transaction, in which case it becomes part of it (a savepoint).
    """
    with conn.transaction(), conn.cursor() as cur:
        # `create index if not exists` takes a ShareLock even when the index exists, which would
        # queue every landing behind any open write on the table: check the catalog first.
        if _all_present(cur):
            return
        cur.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK_KEY,))
        # Checked again under the lock: a concurrent ingest that created everything meanwhile is
        # now landing; re-running the DDL would queue behind its writes while holding locks it
        # needs (a deadlock between two first ingests into an empty database).
        if _all_present(cur):
            return
        ledger = cur.execute("select to_regclass('raw.ingest_files')").fetchone()
        for statement in raw_schema_statements():
            cur.execute(statement.encode())
        if ledger is None or ledger[0] is None:
            cur.execute(_BACKFILL_INGEST_FILES.encode())


def _brin_indexes() -> list[str]:
    return [
        f"{RAW_SCHEMA}.{table}_{column}_idx" for table in RECORD_TABLES for column in BRIN_COLUMNS
    ]


def _relations() -> list[str]:
    names = [f"{RAW_SCHEMA}.{table}" for table in RECORD_TABLES]
    names += _brin_indexes()
    return [*names, f"{RAW_SCHEMA}.ingest_errors", f"{RAW_SCHEMA}.ingest_files"]


def _all_present(cur: psycopg.Cursor[Any]) -> bool:
    row = cur.execute(
        "select bool_and(to_regclass(name) is not null)"
        " and (select count(*) from pg_attribute"
        "      where attrelid = to_regclass('raw.ingest_files') and attname = any(%s)"
        "      and not attisdropped) = %s"
        " and (select count(*) from pg_class where oid = any(array(select to_regclass(i)"
        "      from unnest(%s::text[]) as i)) and 'autosummarize=on' = any(reloptions)) = %s"
        " from unnest(%s::text[]) as name",
        (
            list(_INGEST_FILES_COLUMNS),
            len(_INGEST_FILES_COLUMNS),
            _brin_indexes(),
            len(_brin_indexes()),
            _relations(),
        ),
    ).fetchone()
    return bool(row and row[0])
