"""Ingest orchestration: resolve sources, connect once, load file after file, report counts."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
import structlog
from tqdm import tqdm

from workbench.config import ConfigError, PostgresSettings
from workbench.contract import ExitCode
from workbench.db import connect
from workbench.exit_codes import classify_database_error
from workbench.ingest import ledger
from workbench.ingest.digest import HashingReader, stream_sha256
from workbench.ingest.gdrive import DriveError, drive_client
from workbench.ingest.loader import FileCounts, Landing, copy_new_file, merge_changed_file
from workbench.ingest.readers import (
    Block,
    FileFormatError,
    blocks_of,
    lines_as_errors,
    read_csv,
    scan_jsonl,
)
from workbench.ingest.schema import ensure_raw_schema
from workbench.ingest.sources import Source, SourceError, SourceGone, resolve
from workbench.ingest.verdict import failure_of, max_error_share
from workbench.observability.redact import redact_text, secret_values

log = structlog.get_logger("workbench.ingest")
ID_KEYS = {"transactions": "transaction_id", "products": "product_id"}
T = TypeVar("T")


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
    """Load every file named by `paths`; returns totals (`failed_files`: files judged garbage,
    their lines kept in raw.ingest_errors). Files before a failure stay loaded."""
    try:
        settings = PostgresSettings.from_env(env)
        max_share = max_error_share(env)
        sources = resolve(paths, entity, lambda: _s3_client(env), _once(lambda: drive_client(env)))
    except (ConfigError, SourceError) as error:
        raise IngestError(str(error), ExitCode.CONFIGURATION_ERROR) from error
    except DriveError as error:
        raise IngestError(str(error), error.exit_code) from error
    except OSError as error:
        raise IngestError(f"cannot read: {error}") from error
    except _s3_errors() as error:  # credentials, endpoint, access denied, no such bucket
        raise IngestError(f"S3: {_safe(error, settings=None)}") from error
    totals = dict.fromkeys(
        (
            "files",
            "records",
            "inserted",
            "already_present",
            "errors",
            "errors_inserted",
            "failed_files",
            "gone_files",
        ),
        0,
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
            job = _FileJob(item, entity, source or item.origin or item.fmt, batch_id, max_share)
            try:
                counts = _load_one(conn, job, progress, settings)
            except SourceGone as gone:
                log.warning(
                    "ingest.file_gone",
                    entity=entity,
                    source_file=item.name,
                    title=item.title,
                    batch_id=batch_id,
                    message=str(gone),
                )
                totals["gone_files"] += 1
                continue
            log.info(
                "ingest.file",
                entity=entity,
                source_file=item.name,
                **({"title": item.title} if item.title else {}),
                batch_id=batch_id,
                path=counts.path,
                records=counts.records,
                inserted=counts.inserted,
                already_present=counts.already_present,
                errors=counts.errors,
                errors_inserted=counts.errors_inserted,
            )
            if counts.failure is not None:
                log.error(
                    "ingest.file_failed",
                    entity=entity,
                    source_file=item.name,
                    batch_id=batch_id,
                    reason=counts.failure,
                    message="a data failure: its lines are in raw.ingest_errors",
                )
            totals["files"] += 1
            totals["records"] += counts.records
            totals["inserted"] += counts.inserted
            totals["already_present"] += counts.already_present
            totals["errors"] += counts.errors
            totals["errors_inserted"] += counts.errors_inserted
            totals["failed_files"] += counts.failure is not None
    return totals


@dataclass(frozen=True)
class _FileJob:
    item: Source
    entity: str
    source: str
    batch_id: str
    max_share: float

    def landing(self) -> Landing:
        return Landing(self.entity, self.source, self.item.name, self.batch_id)


def _load_one(
    conn: psycopg.Connection[Any],
    job: _FileJob,
    progress: bool,
    settings: PostgresSettings,
) -> FileCounts:
    item, entity = job.item, job.entity
    check = _EntityCheck(ID_KEYS[entity])
    try:
        with conn.transaction(), conn.cursor() as cur:
            ledger.lock_file(cur, entity, item.name)
            known = ledger.landed(cur, entity, item.name)
            if known is not None and _unchanged(cur, item, known, entity):
                return FileCounts(
                    known.records, 0, known.errors, 0, "unchanged", failure=known.failure
                )
            land = copy_new_file if known is None else merge_changed_file
            try:
                # a savepoint: an unusable header undoes the COPY begun before it was read
                with (
                    conn.transaction(),
                    _progress_bar(item, progress) as advance,
                    item.open(advance) as stream,
                ):
                    hashed = HashingReader(stream)
                    reader = io.BufferedReader(hashed, 1 << 20)
                    blocks = check.watch(_blocks(item.fmt, reader, ID_KEYS[entity]))
                    counts = land(cur, blocks, job.landing())
                failure = failure_of(counts.records, counts.errors, job.max_share)
            except FileFormatError as error:
                with item.open() as stream:  # the whole file, line by line, as ingest errors
                    hashed = HashingReader(stream)
                    reader = io.BufferedReader(hashed, 1 << 20)
                    blocks = lines_as_errors(reader, f"file not loaded: {error}")
                    counts = land(cur, blocks, job.landing())
                failure = str(error)
            ledger.record(
                cur,
                entity=entity,
                source_file=item.name,
                file_sha256=hashed.hexdigest(),
                records=counts.records,
                errors=counts.errors,
                batch_id=job.batch_id,
                failure=failure,
                source_version=item.version,
            )
    except (OSError, EOFError) as error:  # unreadable file, truncated gzip, lost S3 stream
        raise IngestError(f"{item.name}: cannot read: {error}") from error
    except psycopg.Error as error:
        raise IngestError(f"{item.name}: database error: {_safe(error, settings)}") from error
    except _s3_errors() as error:
        raise IngestError(f"{item.name}: S3: {_safe(error, settings)}") from error
    except DriveError as error:
        raise IngestError(f"{item.name}: {error}", error.exit_code) from error
    if check.looks_wrong():
        log.warning(
            "ingest.entity_mismatch",
            source_file=item.name,
            entity=entity,
            message=f"none of the first {check.sampled} records has {check.key}: "
            f"is --entity {entity} right? (the records landed; silver will reject them)",
        )
    return dataclasses.replace(counts, failure=failure)


def _unchanged(
    cur: psycopg.Cursor[Any], item: Source, known: ledger.LandedFile, entity: str
) -> bool:
    """The same content as landed: the store's version says so (nothing downloaded), or the
    bytes hash to the ledger's SHA-256 (then the version is remembered for next time). Another
    version than the one recorded is read once, by the record-by-record merge, not hashed
    first: the merge is idempotent should the bytes be the same after all."""
    if known.file_sha256 is None:
        return False
    if item.version is not None and known.source_version is not None:
        return item.version == known.source_version
    with item.open() as stream:
        same = stream_sha256(stream) == known.file_sha256
    if same and item.version is not None:
        ledger.remember_version(cur, entity, item.name, item.version)
    return same


def _blocks(fmt: str, stream: io.BufferedIOBase, key: str) -> Iterator[Block]:
    return blocks_of(read_csv(stream, required=key)) if fmt == "csv" else scan_jsonl(stream)


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


def _once(make: Callable[[], T]) -> Callable[[], T]:
    """`make`, called at most once: one signed-in Drive session for the whole command."""
    made: list[T] = []

    def get() -> T:
        if not made:
            made.append(make())
        return made[0]

    return get


def _s3_client(env: Mapping[str, str]) -> Any:
    """The one S3 client of the runtime (workbench/storage/s3client.py); AWS_ENDPOINT_URL
    points it at Spaces, MinIO or any other S3 API."""
    from workbench.storage.s3client import make_s3_client

    try:
        return make_s3_client(env)
    except ValueError as error:  # a malformed WORKBENCH_S3_ADDRESSING_STYLE / AWS_MAX_ATTEMPTS
        raise ConfigError(str(error)) from error


def _safe(error: BaseException, settings: PostgresSettings | None) -> str:
    """The error's message through the one redactor, the connection's password included
    (it may come from a file, not only from POSTGRES_PASSWORD)."""
    text = str(error).strip() or type(error).__name__
    extra = (settings.password,) if settings is not None and settings.password else ()
    return redact_text(text, (*extra, *secret_values()))
