"""Globals of dbt's Jinja context that sqlfluff's jinja templater lacks (see .sqlfluff)."""

from typing import Any

# `{{ return(x) }}` in a macro; `return` is a Python keyword, hence the dictionary.
globals()["return"] = lambda value: value


def __getattr__(name: str) -> Any:
    raise AttributeError(name)
