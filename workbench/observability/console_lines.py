"""Console log lines for people at a terminal: at most 100 columns, nothing dropped.

`HH:MM:SS level event` then the event's fields as key=value, wrapped onto indented continuation
lines (a value longer than a line gets a line of its own and is not cut); a traceback follows
as it is. JSON lines (pods, pipes) never go through here.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

WIDTH = 100
INDENT = "    "


def _time_of_day(timestamp: object) -> str:
    text = str(timestamp or "")
    return text[11:19] if len(text) >= 19 and text[10] == "T" else text


def _field(key: str, value: object) -> str:
    shown = value if isinstance(value, str) and value and " " not in value else repr(value)
    return f"{key}={shown}"


class ConsoleLines:
    """A structlog renderer; `width` includes the continuation indent."""

    def __init__(self, width: int = WIDTH) -> None:
        self.width = width

    def __call__(self, _logger: object, _method: str, event_dict: MutableMapping[str, Any]) -> str:
        fields = dict(event_dict)
        traceback = fields.pop("exception", None)
        head = " ".join(
            part
            for part in (
                _time_of_day(fields.pop("timestamp", None)),
                f"{fields.pop('level', 'info')!s:<7}",
                str(fields.pop("event", "")),
            )
            if part
        )
        lines = [head]
        for key, value in fields.items():
            item = _field(key, value)
            candidate = f"{lines[-1]} {item}"
            if len(candidate) <= self.width:
                lines[-1] = candidate
            else:
                lines.append(INDENT + item)
        if traceback:
            lines.append(str(traceback).rstrip("\n"))
        return "\n".join(lines)
