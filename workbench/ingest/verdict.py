"""Whether a file landed or is garbage: the rule that keeps a broken producer from looking
healthy. Its lines are kept either way; only the verdict (and the exit code) differs."""

from __future__ import annotations

from collections.abc import Mapping

from workbench.config import ConfigError
from workbench.contract import INGEST_MAX_ERROR_SHARE_DEFAULT, INGEST_MAX_ERROR_SHARE_ENV


def max_error_share(env: Mapping[str, str]) -> float:
    """WORKBENCH_INGEST_MAX_ERROR_SHARE as a fraction in [0, 1]."""
    text = env.get(INGEST_MAX_ERROR_SHARE_ENV, "").strip()
    if not text:
        return INGEST_MAX_ERROR_SHARE_DEFAULT
    try:
        share = float(text)
    except ValueError:
        share = -1.0
    if not 0.0 <= share <= 1.0:
        raise ConfigError(
            f"{INGEST_MAX_ERROR_SHARE_ENV} must be a number from 0 to 1; got {text!r}"
        )
    return share


def failure_of(records: int, errors: int, max_share: float) -> str | None:
    """Why a file with these counts is a data failure, or None when it landed."""
    if records == 0 and errors == 0:
        return "empty: no line to read"
    if records == 0:
        return f"no record could be parsed ({errors} unparseable lines)"
    share = errors / (records + errors)
    if share > max_share:
        return (
            f"{errors} of {records + errors} lines unparseable ({share:.0%}),"
            f" more than {INGEST_MAX_ERROR_SHARE_ENV}={max_share:g}"
        )
    return None
