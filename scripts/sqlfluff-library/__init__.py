"""Globals of dbt's Jinja context that sqlfluff's jinja templater lacks (see .sqlfluff)."""

from typing import Any

# `{{ return(x) }}` in a macro; `return` is a Python keyword, hence the dictionary.
globals()["return"] = lambda value: value


def run_query(sql: str) -> None:
    """No database here: a macro that reads one at compile time takes its parse-time values."""
    return None


def __getattr__(name: str) -> Any:
    raise AttributeError(name)
