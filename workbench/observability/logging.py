"""structlog, configured once: JSON lines for machines, a readable console for people.

Logs go to stderr. `workbench run` keeps dbt's own stdout logger switched off, so a pod's log
stream carries only these events (dbt's detailed log stays in its log file).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from workbench.observability.console_lines import ConsoleLines
from workbench.observability.redact import redact_value, secret_values


def _redact_secrets(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    secrets = secret_values()
    for key, value in list(event_dict.items()):
        event_dict[key] = redact_value(key, value, secrets)
    return event_dict


_LEADING_KEYS = ("timestamp", "level", "event")


def _leading_keys_first(
    _logger: object, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    ordered = {key: event_dict.pop(key) for key in _LEADING_KEYS if key in event_dict}
    ordered.update(event_dict)
    return ordered


def configure_logging(stream: TextIO | None = None, *, json: bool | None = None) -> None:
    """Configure structlog for the process. JSON unless the stream is a terminal."""
    out = sys.stderr if stream is None else stream
    as_json = (not out.isatty()) if json is None else json
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(sort_keys=False) if as_json else ConsoleLines()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _redact_secrets,
            _leading_keys_first,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def ensure_logging_configured() -> None:
    """For entry points that may run without cli.main (tests, python -m)."""
    if not structlog.is_configured():
        configure_logging()
