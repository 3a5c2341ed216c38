"""Validation of every value that can arrive from a workflow parameter, before dbt starts.

Workflows always pass every argument, so an empty string means "not given".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from workbench.contract import BOOLEAN_CHOICES, LAYERS

DEFAULT_LOCK_TIMEOUT_SECONDS = 600.0
MAX_LOCK_TIMEOUT_SECONDS = 24 * 3600.0
LOCK_TIMEOUT_ENV = "WORKBENCH_LOCK_TIMEOUT_SECONDS"

MAX_SELECTION_LENGTH = 512
# dbt node selection grammar: names, paths, methods (tag:), graph operators (+ @ *), set
# operators (space, comma). Nothing a shell or dbt's option parser could interpret.
_SELECTION_CHARS = re.compile(r"[A-Za-z0-9_.:+*@/,\- ]+")

MAX_VARS_LENGTH = 2048


class ParamError(ValueError):
    """A parameter is invalid; the message names it and what is accepted."""


VarCheck = Callable[[object], object]


def _number(name: str, low: float, high: float, *, integer: bool = False) -> VarCheck:
    kind = "an integer" if integer else "a number"

    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParamError(f"vars.{name} must be {kind}")
        if integer and not isinstance(value, int):
            raise ParamError(f"vars.{name} must be {kind}")
        if not math.isfinite(value) or not low <= value <= high:
            raise ParamError(f"vars.{name} must be between {low:g} and {high:g}")
        return value

    return check


def _choice(name: str, choices: tuple[str, ...]) -> VarCheck:
    def check(value: object) -> object:
        if value not in choices:
            raise ParamError(f"vars.{name} must be one of {', '.join(choices)}")
        return value

    return check


def _iso_date(name: str, earliest: date, latest: date) -> VarCheck:
    def check(value: object) -> object:
        try:
            parsed = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or len(str(value)) != 10:
            raise ParamError(f"vars.{name} must be a date written YYYY-MM-DD")
        if not earliest <= parsed <= latest:
            raise ParamError(f"vars.{name} must be between {earliest} and {latest}")
        return value

    return check


# dbt_project.yml's var test_scope (dbt/macros/test_scope.sql): which rows the data tests read.
TEST_SCOPES = ("auto", "batch", "full")

# The only dbt vars (dbt_project.yml) a workflow may set, each with its bounds.
ALLOWED_VARS: Mapping[str, VarCheck] = {
    "anomaly_z_threshold": _number("anomaly_z_threshold", 0.1, 20),
    "anomaly_window_weeks": _number("anomaly_window_weeks", 2, 52, integer=True),
    "anomaly_min_history_weeks": _number("anomaly_min_history_weeks", 1, 52, integer=True),
    "amount_tolerance": _number("amount_tolerance", 0, 1000),
    "test_scope": _choice("test_scope", TEST_SCOPES),
    "earliest_business_date": _iso_date(
        "earliest_business_date", date(1900, 1, 1), date(2999, 12, 31)
    ),
}


@dataclass(frozen=True)
class RunParams:
    layer: str
    select: str | None = None
    exclude: str | None = None
    full_refresh: bool = False
    vars: Mapping[str, object] = field(default_factory=dict)
    lock_timeout_seconds: float = DEFAULT_LOCK_TIMEOUT_SECONDS

    @property
    def selection(self) -> str:
        """What this run selects, for logs and history."""
        if self.select is None and self.exclude is None:
            return f"selector:{self.layer}"
        parts = [f"select:{self.select}"] if self.select else []
        parts += [f"exclude:{self.exclude}"] if self.exclude else []
        return " ".join(parts)


def parse_layer(text: str) -> str:
    layer = text.strip()
    if layer not in LAYERS:
        raise ParamError(f"--layer must be one of {', '.join(LAYERS)}; got {text!r}")
    return layer


def parse_selection(option: str, text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    if len(value) > MAX_SELECTION_LENGTH:
        raise ParamError(f"{option} is longer than {MAX_SELECTION_LENGTH} characters")
    if not _SELECTION_CHARS.fullmatch(value):
        bad = sorted({c for c in value if not _SELECTION_CHARS.fullmatch(c)})
        raise ParamError(
            f"{option} may contain only letters, digits, space and _ . : + * @ / , - "
            f"(dbt selection syntax); rejected characters: {' '.join(repr(c) for c in bad)}"
        )
    if any(token.startswith("-") for token in value.replace(",", " ").split()):
        raise ParamError(f"{option} tokens may not start with '-' (they would read as options)")
    return " ".join(value.split())  # only spaces remain; collapse runs of them


def parse_full_refresh(text: str | None) -> bool:
    if text is None or text.strip() == "":
        return False
    value = text.strip().lower()
    if value not in BOOLEAN_CHOICES:
        raise ParamError(
            f"--full-refresh must be {' or '.join(reversed(BOOLEAN_CHOICES))}; got {text!r}"
        )
    return value == BOOLEAN_CHOICES[1]


def parse_vars(text: str | None) -> dict[str, object]:
    if text is None or not text.strip():
        return {}
    if len(text) > MAX_VARS_LENGTH:
        raise ParamError(f"--vars is longer than {MAX_VARS_LENGTH} characters")
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParamError(f"--vars must be a JSON object: {exc.msg}") from None
    if not isinstance(loaded, dict):
        raise ParamError("--vars must be a JSON object, e.g. '{\"anomaly_z_threshold\": 2.5}'")
    unknown = sorted(set(loaded) - set(ALLOWED_VARS))
    if unknown:
        raise ParamError(
            f"--vars keys not allowed: {', '.join(unknown)}; allowed: {', '.join(ALLOWED_VARS)}"
        )
    return {key: ALLOWED_VARS[key](value) for key, value in loaded.items()}


def parse_lock_timeout(text: str | None, env: Mapping[str, str] | None = None) -> float:
    env = os.environ if env is None else env
    source = "--lock-timeout"
    if text is None or not text.strip():
        text, source = env.get(LOCK_TIMEOUT_ENV, ""), LOCK_TIMEOUT_ENV
    if not text.strip():
        return DEFAULT_LOCK_TIMEOUT_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        raise ParamError(f"{source} must be a number of seconds; got {text!r}") from None
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_LOCK_TIMEOUT_SECONDS:
        raise ParamError(f"{source} must be between 0 and {MAX_LOCK_TIMEOUT_SECONDS:.0f} seconds")
    return seconds


def parse_run_params(
    *,
    layer: str,
    select: str | None = None,
    exclude: str | None = None,
    full_refresh: str | None = None,
    vars_json: str | None = None,
    lock_timeout: str | None = None,
    env: Mapping[str, str] | None = None,
) -> RunParams:
    return RunParams(
        layer=parse_layer(layer),
        select=parse_selection("--select", select),
        exclude=parse_selection("--exclude", exclude),
        full_refresh=parse_full_refresh(full_refresh),
        vars=parse_vars(vars_json),
        lock_timeout_seconds=parse_lock_timeout(lock_timeout, env),
    )


def add_selection_arguments(parser: argparse.ArgumentParser) -> None:
    """--layer, --select, --exclude, --full-refresh: the same words for `run` and `submit`."""
    parser.add_argument("--layer", required=True, help=f"one of: {', '.join(LAYERS)}")
    parser.add_argument(
        "--select", default="", help="dbt selection that replaces the layer's selector"
    )
    parser.add_argument(
        "--exclude", default="", help="dbt exclusion that replaces the layer's selector"
    )
    parser.add_argument(
        "--full-refresh",
        nargs="?",
        const="true",
        default="",
        metavar="true|false",
        help="rebuild incremental models from scratch",
    )
