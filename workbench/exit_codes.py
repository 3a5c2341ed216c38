"""How an error becomes an exit code of the contract (workbench.contract.ExitCode).

The codes themselves are workbench.contract.ExitCode; this module decides which code an error
from PostgreSQL or dbt deserves.
"""

from __future__ import annotations

import re

from workbench.contract import ExitCode

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

# Concurrency conflicts PostgreSQL resolves by cancelling one side: the same statement
# succeeds when run again (SQLSTATE 40P01, 40001, 55P03 and lock_timeout's 57014 wording).
CONFLICT_ERROR_MARKERS = (
    "deadlock detected",
    "could not serialize access",
    "canceling statement due to lock timeout",
    "could not obtain lock",
)

# The server refused who we are or where we point. Checked before the connection markers,
# since libpq words these "connection to server at ... failed: FATAL: password ...".
CONFIGURATION_ERROR_MARKERS = (
    "password authentication failed",
    "no pg_hba.conf entry",
    "no password supplied",
    "password is required",
    "server does not support ssl",
)
_MISSING_ROLE_OR_DATABASE = re.compile(r'\b(role|database) "[^"]*" does not exist')

# dbt's own exceptions that mean the project, profile or invocation is wrong.
CONFIGURATION_EXCEPTIONS = frozenset({"DbtUsageException", "DbtProjectError", "DbtProfileError"})


def _has(message: str | None, markers: tuple[str, ...]) -> bool:
    text = (message or "").lower()
    return any(marker in text for marker in markers)


def is_configuration_error(message: str | None) -> bool:
    text = (message or "").lower()
    return _has(text, CONFIGURATION_ERROR_MARKERS) or bool(_MISSING_ROLE_OR_DATABASE.search(text))


def is_connection_error(message: str | None) -> bool:
    return _has(message, CONNECTION_ERROR_MARKERS)


def is_transient_error(message: str | None) -> bool:
    """A lost connection or a concurrency conflict: the same run succeeds when retried."""
    return is_connection_error(message) or _has(message, CONFLICT_ERROR_MARKERS)


def classify_database_error(message: str | None) -> ExitCode:
    """An error from PostgreSQL outside dbt (lock connection, history)."""
    if is_configuration_error(message):
        return ExitCode.CONFIGURATION_ERROR
    return ExitCode.RUNTIME_ERROR


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
    if exception is not None:
        if type(exception).__name__ in CONFIGURATION_EXCEPTIONS:
            return ExitCode.CONFIGURATION_ERROR
        return classify_database_error(str(exception))
    if not completed:
        return ExitCode.RUNTIME_ERROR
    if any(is_configuration_error(message) for message in node_messages):
        return ExitCode.CONFIGURATION_ERROR
    if any(is_transient_error(message) for message in node_messages):
        return ExitCode.RUNTIME_ERROR
    return ExitCode.FAILURE
