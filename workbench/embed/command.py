"""`workbench embed`: embed platinum's new or changed texts into pgvector (docs/embeddings.md)."""

from __future__ import annotations

import argparse
import sys
import time

import psycopg
import structlog
from tqdm import tqdm

from workbench.config import ConfigError, PostgresSettings
from workbench.contract import DEFAULT_EMBED_WINDOW_DAYS, EMBED_WINDOW_DAYS_ENV, ExitCode
from workbench.embed import metrics
from workbench.embed.provider import EmbedError, VectorsUnavailable
from workbench.embed.providers import build_embedder
from workbench.embed.run import DEFAULT_BATCH_SIZE, Progress, embed_platinum
from workbench.embed.settings import MAX_WINDOW_DAYS, EmbedSettings
from workbench.exit_codes import classify_database_error
from workbench.observability.logging import ensure_logging_configured
from workbench.params import LOCK_TIMEOUT_ENV, ParamError, parse_lock_timeout
from workbench.run.lock import LockTimeoutError

log = structlog.get_logger("workbench.embed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--window-days",
        type=int,
        default=None,
        help=f"embed transactions dated within this many days of the newest sale "
        f"(env {EMBED_WINDOW_DAYS_ENV}; default {DEFAULT_EMBED_WINDOW_DAYS})",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=DEFAULT_BATCH_SIZE,
        help=f"texts per embedding call and per commit (default {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--lock-timeout",
        default="",
        metavar="SECONDS",
        help=f"wait this long for the platinum lock (env {LOCK_TIMEOUT_ENV}; default 600)",
    )


class _Bar(Progress):
    def __init__(self, kind: str, total: int) -> None:
        self._bar = tqdm(total=total, unit="text", desc=f"embed {kind}", leave=False)

    def advance(self, count: int) -> None:
        self._bar.update(count)

    def close(self) -> None:
        self._bar.close()


def _progress(kind: str, total: int) -> Progress:
    return _Bar(kind, total) if sys.stderr.isatty() else Progress()


def execute(args: argparse.Namespace) -> int:
    ensure_logging_configured()
    try:
        if args.window_days is not None and not 1 <= args.window_days <= MAX_WINDOW_DAYS:
            raise ParamError(f"--window-days must be from 1 to {MAX_WINDOW_DAYS}")
        if args.batch_size < 1:
            raise ParamError("--batch-size must be at least 1")
        lock_timeout = parse_lock_timeout(args.lock_timeout)
        settings = PostgresSettings.from_env()
    except (ParamError, ConfigError) as exc:
        log.error("invalid_parameters", error=str(exc))
        return int(ExitCode.CONFIGURATION_ERROR)
    return embed_now(
        settings,
        window_days=args.window_days,
        batch_size=args.batch_size,
        lock_timeout_seconds=lock_timeout,
    )


def embed_now(
    settings: PostgresSettings,
    *,
    window_days: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    lock_timeout_seconds: float,
    vectors_optional: bool = False,
) -> int:
    """One embed pass with its logs and metrics; the exit code it ends with.

    `vectors_optional` is the platinum run's mode: on a server that cannot hold vectors (no
    pgvector) it says so once and ends 0, where an explicit `workbench embed` ends 3.
    """
    try:
        embed_settings = EmbedSettings.from_env()
    except EmbedError as exc:
        log.error("embed.failed", error=str(exc))
        return int(exc.exit_code)
    if embed_settings.fell_back:
        log.warning(
            "embed.provider_fallback",
            provider="hashing",
            reason="wordllama (extra `embed`) is not installed: lexical vectors only",
            hint="pip install 'dbt-workbench[embed]'",
        )
    window = window_days or embed_settings.window_days
    try:
        embedder = build_embedder(embed_settings)
        result = embed_platinum(
            settings,
            embedder,
            embed_settings.provider,
            window_days=window,
            lock_timeout_seconds=lock_timeout_seconds,
            batch_size=batch_size,
            progress=_progress,
        )
    except VectorsUnavailable as exc:
        if vectors_optional:
            log.warning("embed.skipped", reason=str(exc))
            return int(ExitCode.SUCCESS)
        log.error("embed.failed", provider=embed_settings.provider, error=str(exc))
        return int(exc.exit_code)
    except EmbedError as exc:
        log.error("embed.failed", provider=embed_settings.provider, error=str(exc))
        return int(exc.exit_code)
    except LockTimeoutError as exc:
        log.error("embed.lock_timeout", error=str(exc))
        return int(ExitCode.RUNTIME_ERROR)
    except psycopg.Error as exc:
        log.error("embed.database_error", target=settings.describe(), error=str(exc))
        return int(classify_database_error(str(exc)))
    metrics.push(result, time.time())
    log.info(
        "embed.done",
        provider=embed_settings.provider,
        model_id=result.model_id,
        dimensions=result.dimensions,
        window_days=window,
        embedded=result.total_embedded,
        embedded_by_kind=result.embedded,
        pruned_by_kind=result.pruned,
        vectors_by_kind=result.vectors,
        hnsw_indexed=result.indexed,
        products_with_neighbours=result.products_with_neighbours,
        texts_per_second=result.texts_per_second,
        duration_seconds=result.duration_seconds,
    )
    return int(ExitCode.SUCCESS)
