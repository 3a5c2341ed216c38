"""Land one file's blocks in raw: records by binary COPY, unparseable lines in raw.ingest_errors.

Two ways in, both inside the caller's transaction (one per file: the whole file lands, or
nothing does):
- :func:`copy_new_file`, for a file name the ledger has never seen: records are copied straight
  into raw.<entity>, the fastest path PostgreSQL offers, since nothing can already be there;
- :func:`merge_changed_file`, for a known name whose content changed: records go to a stage
  table first and only those not already landed on (source_file, source_row, payload_sha256)
  are inserted; this reads the file's landed rows, a sequential scan of raw.<entity> (a
  changed file under an old name is rare; a retried identical file never gets here).
Unparseable lines are spooled (memory first, then a temporary file) while records stream, and
inserted afterwards, skipping any already recorded for the same entity, file and line.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

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
from workbench.ingest.readers import Block

_SPOOL_IN_MEMORY_BYTES = 8 << 20
_COPY_CHUNK_BYTES = 1 << 20

_RECORD_STAGE = """
create temp table ingest_stage (
    source         text,
    source_file    text,
    batch_id       text,
    source_row     bigint,
    payload_sha256 text,
    payload        jsonb
) on commit drop
"""

_ERROR_STAGE = """
create temp table ingest_error_stage (
    source_row bigint,
    raw_text   text,
    reason     text
) on commit drop
"""

_INSERT_NEW_RECORDS = """
insert into raw.{table} ({columns})
select {columns}
from ingest_stage as staged
where not exists (
    select 1
    from raw.{table} as landed
    where landed.source_file = staged.source_file
      and landed.source_row = staged.source_row
      -- rows landed before the ingest ledger existed hash PostgreSQL's jsonb text instead
      and (landed.payload_sha256 = staged.payload_sha256 or landed.payload = staged.payload)
)
order by staged.source_row
"""

_INSERT_ERRORS = """
insert into raw.ingest_errors
    (entity, source, source_file, source_row, raw_text, reason, batch_id)
select %(entity)s, %(source)s, %(source_file)s, source_row, raw_text, reason, %(batch_id)s
from ingest_error_stage
order by source_row
on conflict (entity, source_file, source_row) do nothing
"""


@dataclass(frozen=True)
class FileCounts:
    records: int  # parsed records in the file
    inserted: int  # of those, newly landed
    errors: int  # lines that could not become records
    errors_inserted: int  # of those, newly recorded in raw.ingest_errors
    path: str  # how the file went in: new | unchanged (skipped by the ledger) | changed
    failure: str | None = None  # why the file is a data failure (garbage); None: it landed

    @property
    def already_present(self) -> int:
        return self.records - self.inserted


@dataclass(frozen=True)
class Landing:
    entity: str
    source: str
    source_file: str
    batch_id: str

    def encoder(self) -> RecordEncoder:
        return RecordEncoder(
            source=self.source, source_file=self.source_file, batch_id=self.batch_id
        )


def copy_new_file(
    cur: psycopg.Cursor[Any], blocks: Iterable[Block], landing: Landing
) -> FileCounts:
    target = sql.SQL("raw.{}").format(sql.Identifier(landing.entity))
    with tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY_BYTES) as file:
        spool = _ErrorSpool(file)
        records = _copy_records(cur, target, blocks, landing.encoder(), spool)
        errors_inserted = spool.land(cur, landing)
    return FileCounts(records, records, spool.count, errors_inserted, "new")


def merge_changed_file(
    cur: psycopg.Cursor[Any], blocks: Iterable[Block], landing: Landing
) -> FileCounts:
    cur.execute(_RECORD_STAGE)
    with tempfile.SpooledTemporaryFile(_SPOOL_IN_MEMORY_BYTES) as file:
        spool = _ErrorSpool(file)
        records = _copy_records(cur, sql.SQL("ingest_stage"), blocks, landing.encoder(), spool)
        cur.execute(
            sql.SQL(_INSERT_NEW_RECORDS).format(
                table=sql.Identifier(landing.entity),
                columns=sql.SQL(", ").join(map(sql.Identifier, RECORD_COLUMNS)),
            )
        )
        inserted = cur.rowcount
        errors_inserted = spool.land(cur, landing)
    return FileCounts(records, inserted, spool.count, errors_inserted, "changed")


def _copy_records(
    cur: psycopg.Cursor[Any],
    target: sql.Composable,
    blocks: Iterable[Block],
    encoder: RecordEncoder,
    spool: _ErrorSpool,
) -> int:
    statement = sql.SQL("copy {target} ({columns}) from stdin (format binary)").format(
        target=target, columns=sql.SQL(", ").join(map(sql.Identifier, RECORD_COLUMNS))
    )
    records = 0
    with cur.copy(statement) as copy:
        copy.write(SIGNATURE)
        for block_records, block_errors in blocks:
            if block_records:
                copy.write(encoder.encode(block_records))
                records += len(block_records)
            if block_errors:
                spool.add(block_errors)
        copy.write(TRAILER)
    return records


class _ErrorSpool:
    """Unparseable lines held until the record COPY is done (one COPY per connection at a time);
    in memory up to 8 MB, then in a temporary file, so memory stays flat on a file of garbage."""

    def __init__(self, file: IO[bytes]) -> None:
        self.count = 0
        self._file = file

    def add(self, rows: list[Any]) -> None:
        self._file.write(encode_errors(rows))
        self.count += len(rows)

    def land(self, cur: psycopg.Cursor[Any], landing: Landing) -> int:
        if not self.count:
            return 0
        cur.execute(_ERROR_STAGE)
        columns = sql.SQL(", ").join(map(sql.Identifier, ERROR_COLUMNS))
        self._file.seek(0)
        with cur.copy(
            sql.SQL("copy ingest_error_stage ({}) from stdin (format binary)").format(columns)
        ) as copy:
            copy.write(SIGNATURE)
            while chunk := self._file.read(_COPY_CHUNK_BYTES):
                copy.write(chunk)
            copy.write(TRAILER)
        cur.execute(
            _INSERT_ERRORS,
            {
                "entity": landing.entity,
                "source": landing.source,
                "source_file": landing.source_file,
                "batch_id": landing.batch_id,
            },
        )
        return cur.rowcount
