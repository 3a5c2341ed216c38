"""`workbench serve --host H --port P`: the HTTP landing service (docs/ingest-api.md).

uvicorn runs the application; on SIGTERM or SIGINT it stops accepting connections, lets the
requests in flight finish (up to the drain time), stops the bronze follower, then exits 0.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
from types import FrameType

import structlog
import uvicorn

from workbench.config import ConfigError, PostgresSettings
from workbench.contract import SERVE_PORT, SERVE_TOKEN_ENV, ExitCode
from workbench.observability.logging import ensure_logging_configured
from workbench.serve.app import create_app
from workbench.serve.options import options_from_env

DEFAULT_LOG_FORMAT = "json"

log = structlog.get_logger("workbench.serve")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default all)")  # noqa: S104
    parser.add_argument("--port", type=int, default=SERVE_PORT, help=f"default {SERVE_PORT}")
    parser.add_argument(
        "--no-bronze-follow",
        action="store_true",
        help="do not run bronze after landings (the daily bronze job still moves them)",
    )
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help=f"accept requests without a bearer token (refused by default when "
        f"{SERVE_TOKEN_ENV} is unset); for a closed network only",
    )


class _ToStructlog(logging.Handler):
    """uvicorn's and psycopg-pool's stdlib log records as JSON events like ours."""

    def emit(self, record: logging.LogRecord) -> None:
        logger = structlog.get_logger(record.name)
        if record.levelno >= logging.ERROR:
            logger.error(record.getMessage(), logger_name=record.name)
        elif record.levelno >= logging.WARNING:
            logger.warning(record.getMessage(), logger_name=record.name)
        else:
            logger.info(record.getMessage(), logger_name=record.name)


def _route_library_logs() -> None:
    handler = _ToStructlog()
    for name in ("uvicorn", "uvicorn.error", "psycopg.pool"):
        library = logging.getLogger(name)
        library.handlers = [handler]
        library.setLevel(logging.INFO if name.startswith("uvicorn") else logging.WARNING)
        library.propagate = False


def _drained(_signum: int, _frame: FrameType | None) -> None:
    """Called only for uvicorn's re-raise after its own handler drained the requests."""


def execute(args: argparse.Namespace) -> int:
    ensure_logging_configured()
    try:
        settings = PostgresSettings.from_env()
        options = options_from_env(
            os.environ, no_auth=args.no_auth, follow_bronze=not args.no_bronze_follow
        )
    except ConfigError as error:
        log.error("serve.invalid_configuration", error=str(error))
        return int(ExitCode.CONFIGURATION_ERROR)
    if options.token is None:
        log.warning("serve.no_auth", message="requests are accepted without a bearer token")
    _route_library_logs()
    config = uvicorn.Config(
        create_app(settings, options),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(options.drain_seconds),
        server_header=False,
    )
    server = uvicorn.Server(config)
    # uvicorn re-raises the signal that stopped it once it has drained; the drained service
    # has shut down cleanly, so that second delivery must not kill it (exit 0, not -15).
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _drained)
    server.run()
    if not server.started:
        log.error("serve.not_started", host=args.host, port=args.port)
        return int(ExitCode.CONFIGURATION_ERROR)
    return int(ExitCode.SUCCESS)
