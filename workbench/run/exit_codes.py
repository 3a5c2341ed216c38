"""The exit codes Argo's retryStrategy decides on."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    SUCCESS = 0
    # A model or test failed: the data or the SQL is wrong, a retry would fail the same way.
    FAILURE = 1
    # Connection lost, lock timeout, bad parameters or configuration: worth a retry (or a fix).
    RUNTIME_ERROR = 2


# How PostgreSQL / libpq / psycopg word a lost or refused connection (lowercase substrings).
CONNECTION_ERROR_MARKERS = (
    "server closed the connection",
    "terminating connection",
    "connection already closed",
    "could not connect to server",
    "connection to server at",
    "connection refused",
    "no connection to the server",
    "could not receive data from server",
    "could not send data to server",
    "ssl syscall error",
    "ssl connection has been closed",
    "lost synchronization with server",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "adminshutdown",
    "connection timed out",
    "cursor already closed",
)


def is_connection_error(message: str | None) -> bool:
    text = (message or "").lower()
    return any(marker in text for marker in CONNECTION_ERROR_MARKERS)


def classify_build(
    *,
    success: bool,
    exception: BaseException | None,
    completed: bool,
    node_messages: list[str | None],
) -> ExitCode:
    """dbt's verdict as an exit code: only a clean model/test failure is FAILURE."""
    if success:
        return ExitCode.SUCCESS
    if exception is not None or not completed:
        return ExitCode.RUNTIME_ERROR
    if any(is_connection_error(message) for message in node_messages):
        return ExitCode.RUNTIME_ERROR
    return ExitCode.FAILURE
