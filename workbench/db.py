"""PostgreSQL connections for the runtime (psycopg 3)."""

from __future__ import annotations

import re

import psycopg

from workbench.config import PostgresSettings
from workbench.contract import ExitCode
from workbench.exit_codes import classify_database_error

# How long a command waits for the server before it says the database is unreachable.
PREFLIGHT_TIMEOUT_SECONDS = 5
_SERVER_MESSAGE = re.compile(r"(?:FATAL|ERROR):\s+(.*)", re.S)


class DatabaseUnreachable(RuntimeError):
    """The server could not be reached or refused us; the message is one line for a person."""

    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def connect(
    settings: PostgresSettings, *, autocommit: bool = False
) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(settings.conninfo(), autocommit=autocommit)


def connection_failure(settings: PostgresSettings, error: BaseException) -> str:
    """`cannot connect to PostgreSQL as user@host:port/db: <the server's own words>`."""
    text = " ".join(str(error).split())
    found = _SERVER_MESSAGE.search(text)
    cause = found.group(1) if found else (text or type(error).__name__)
    if settings.password:
        cause = cause.replace(settings.password, "***")
    return f"cannot connect to PostgreSQL as {settings.describe()}: {cause}"


def check_connection(
    settings: PostgresSettings, timeout_seconds: float = PREFLIGHT_TIMEOUT_SECONDS
) -> None:
    """Connect once, within seconds, before a command starts work that needs the database.

    Raises DatabaseUnreachable: exit code 3 when the server refused who we are (a password, a
    missing role or database: a person must act), 2 when it could not be reached (retry).
    """
    try:
        with psycopg.connect(settings.conninfo(), connect_timeout=max(1, int(timeout_seconds))):
            pass
    except psycopg.Error as exc:
        raise DatabaseUnreachable(
            connection_failure(settings, exc), classify_database_error(str(exc))
        ) from exc
