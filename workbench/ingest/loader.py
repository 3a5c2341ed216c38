"""Load one source into raw landing: COPY into a temporary stage table, then insert what is new.

One transaction per file: either the whole file lands (records and ingest errors) or nothing
does. Idempotent: a record already landed from the same source_file, source_row and payload
(payload_sha256, computed by PostgreSQL over the jsonb text, so formatting does not matter) is
skipped, as is an ingest error already recorded for the same entity, file and row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from workbench.ingest.readers import StageRow

_STAGE = """
create temp table ingest_stage (
    source_row bigint not null,
    payload    text,
    raw_text   text,
    reason     text
) on commit drop
"""

_INSERT_RECORDS = """
insert into raw.{table} (payload, source, source_file, source_row, batch_id, payload_sha256)
select staged.payload, %(source)s, %(source_file)s, staged.source_row, %(batch_id)s,
       encode(sha256(convert_to(staged.payload::text, 'UTF8')), 'hex')
from (
    select source_row, payload::jsonb as payload
    from ingest_stage
    where reason is null
) as staged
order by staged.source_row
on conflict (source_file, source_row, payload_sha256) do nothing
"""

_INSERT_ERRORS = """
insert into raw.ingest_errors
    (entity, source, source_file, source_row, raw_text, reason, batch_id)
select %(entity)s, %(source)s, %(source_file)s, source_row, raw_text, reason, %(batch_id)s
from ingest_stage
where reason is not null
order by source_row
on conflict (entity, source_file, source_row) do nothing
"""


@dataclass(frozen=True)
class FileCounts:
    records: int  # parsed records in the file
    inserted: int  # of those, newly landed
    errors: int  # lines that could not become records
    errors_inserted: int  # of those, newly recorded in raw.ingest_errors

    @property
    def already_present(self) -> int:
        return self.records - self.inserted


def load(
    conn: psycopg.Connection[Any],
    rows: Iterable[StageRow],
    *,
    entity: str,
    source: str,
    source_file: str,
    batch_id: str,
) -> FileCounts:
    records = errors = 0
    params = {
        "entity": entity,
        "source": source,
        "source_file": source_file,
        "batch_id": batch_id,
    }
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(_STAGE)
        with cur.copy(
            "copy ingest_stage (source_row, payload, raw_text, reason) from stdin"
        ) as copy:
            for row in rows:
                copy.write_row(row)
                if row[3] is None:
                    records += 1
                else:
                    errors += 1
        cur.execute(sql.SQL(_INSERT_RECORDS).format(table=sql.Identifier(entity)), params)
        inserted = cur.rowcount
        cur.execute(_INSERT_ERRORS, params)
        errors_inserted = cur.rowcount
    return FileCounts(records, inserted, errors, errors_inserted)
