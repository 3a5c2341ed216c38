"""Ingest orchestration: resolve sources, connect once, load file after file, report counts."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import psycopg
import structlog
from tqdm import tqdm

from workbench.config import ConfigError, PostgresSettings
from workbench.contract import ExitCode
from workbench.db import connect
from workbench.exit_codes import classify_database_error
from workbench.ingest import ledger
from workbench.ingest.digest import HashingReader, stream_sha256
from workbench.ingest.loader import FileCounts, Landing, copy_new_file, merge_changed_file
from workbench.ingest.readers import Block, FileFormatError, blocks_of, read_csv, scan_jsonl
from workbench.ingest.schema import ensure_raw_schema
from workbench.ingest.sources import Source, SourceError, resolve

log = structlog.get_logger("workbench.ingest")
ID_KEYS = {"transactions": "transaction_id", "products": "product_id"}


class IngestError(RuntimeError):
    """Ingest stopped: no database, no such file, unreadable file. The message says which."""

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.RUNTIME_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def ingest(
    paths: Sequence[str],
    *,
    entity: str,
    source: str | None,
    batch_id: str,
    progress: bool,
    env: Mapping[str, str],
) -> dict[str, int]:
    """Load every file named by `paths`; returns totals. Files before a failure stay loaded."""
    try:
        settings = PostgresSettings.from_env(env)
        sources = resolve(paths, entity, lambda: _s3_client(env))
    except (ConfigError, SourceError) as error:
        raise IngestError(str(error), ExitCode.CONFIGURATION_ERROR) from error
    except OSError as error:
        raise IngestError(f"cannot read: {error}") from error
    except _s3_errors() as error:  # credentials, endpoint, access denied, no such bucket
        raise IngestError(f"S3: {_safe(error, settings=None)}") from error
    totals = dict.fromkeys(
        ("files", "records", "inserted", "already_present", "errors", "errors_inserted"), 0
    )
    try:
        conn = connect(settings, autocommit=True)
    except psycopg.Error as error:
        raise IngestError(
            f"cannot connect to PostgreSQL at {settings.describe()}: {_safe(error, settings)}",
            classify_database_error(str(error)),
        ) from error
    with conn:
        ensure_raw_schema(conn)
        for item in sources:
            counts = _load_one(conn, item, entity, source or item.fmt, batch_id, progress, settings)
            log.info(
                "ingest.file",
                entity=entity,
                source_file=item.name,
                batch_id=batch_id,
                path=counts.path,
                records=counts.records,
                inserted=counts.inserted,
                already_present=counts.already_present,
                errors=counts.errors,
                errors_inserted=counts.errors_inserted,
            )
            totals["files"] += 1
            totals["records"] += counts.records
            totals["inserted"] += counts.inserted
            totals["already_present"] += counts.already_present
            totals["errors"] += counts.errors
            totals["errors_inserted"] += counts.errors_inserted
    return totals


def _load_one(
    conn: psycopg.Connection[Any],
    item: Source,
    entity: str,
    source: str,
    batch_id: str,
    progress: bool,
    settings: PostgresSettings,
) -> FileCounts:
    landing = Landing(entity=entity, source=source, source_file=item.name, batch_id=batch_id)
    check = _EntityCheck(ID_KEYS[entity])
    try:
        with conn.transaction(), conn.cursor() as cur:
            ledger.lock_file(cur, entity, item.name)
            known = ledger.landed(cur, entity, item.name)
            if known is not None and known.file_sha256 is not None:
                with item.open() as stream:
                    unchanged = stream_sha256(stream) == known.file_sha256
                if unchanged:
                    return FileCounts(known.records, 0, known.errors, 0, "unchanged")
            with _progress_bar(item, progress) as advance, item.open(advance) as stream:
                hashed = HashingReader(stream)
                blocks = check.watch(_blocks(item.fmt, io.BufferedReader(hashed, 1 << 20)))
                land = copy_new_file if known is None else merge_changed_file
                counts = land(cur, blocks, landing)
            ledger.record(
                cur,
                entity=entity,
                source_file=item.name,
                file_sha256=hashed.hexdigest(),
                records=counts.records,
                errors=counts.errors,
                batch_id=batch_id,
            )
    except FileFormatError as error:
        raise IngestError(f"{item.name}: {error}", ExitCode.CONFIGURATION_ERROR) from error
    except (OSError, EOFError) as error:  # unreadable file, truncated gzip, lost S3 stream
        raise IngestError(f"{item.name}: cannot read: {error}") from error
    except psycopg.Error as error:
        raise IngestError(f"{item.name}: database error: {_safe(error, settings)}") from error
    except _s3_errors() as error:
        raise IngestError(f"{item.name}: S3: {_safe(error, settings)}") from error
    if check.looks_wrong():
        log.warning(
            "ingest.entity_mismatch",
            source_file=item.name,
            entity=entity,
            message=f"none of the first {check.sampled} records has {check.key}: "
            f"is --entity {entity} right? (the records landed; silver will reject them)",
        )
    return counts


def _blocks(fmt: str, stream: io.BufferedIOBase) -> Iterator[Block]:
    return blocks_of(read_csv(stream)) if fmt == "csv" else scan_jsonl(stream)


@contextlib.contextmanager
def _progress_bar(item: Source, progress: bool) -> Iterator[Callable[[int], None] | None]:
    if not progress:
        yield None
        return
    with tqdm(
        total=item.size,
        unit="B",
        unit_scale=True,
        desc=item.name.rsplit("/", 1)[-1],
        leave=False,
    ) as bar:

        def advance(count: int) -> None:
            bar.update(count)

        yield advance


class _EntityCheck:
    """Notices a products file loaded as transactions (or the reverse) from the first records."""

    SAMPLE = 1000

    def __init__(self, key: str) -> None:
        self.key = key
        self._needle = f'"{key}"'.encode()
        self.sampled = 0
        self._hits = 0

    def watch(self, blocks: Iterator[Block]) -> Iterator[Block]:
        for block in blocks:
            for _, payload in block[0][: self.SAMPLE - self.sampled]:
                self.sampled += 1
                self._hits += self._needle in payload
            yield block

    def looks_wrong(self) -> bool:
        return self.sampled > 0 and self._hits == 0


def _s3_errors() -> tuple[type[BaseException], ...]:
    """botocore's exception types, imported only when an exception is being matched (an
    `except` expression is evaluated lazily), so local-only ingests never import boto."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


def _s3_client(env: Mapping[str, str]) -> Any:
    import boto3

    endpoint = env.get("AWS_ENDPOINT_URL") or None
    return boto3.client("s3", endpoint_url=endpoint)


def _safe(error: BaseException, settings: PostgresSettings | None) -> str:
    """The error's message without the password, should a driver ever echo it."""
    text = str(error).strip() or type(error).__name__
    if settings is not None and settings.password:
        text = text.replace(settings.password, "***")
    return text
