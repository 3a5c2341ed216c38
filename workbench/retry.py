"""How long to wait before trying an HTTP peer again after a 429 or a 5xx (Google Drive, an
OpenAI-compatible embeddings endpoint): the server's Retry-After when it sends one, else
exponential backoff with jitter, never more than a cap. Standard library only."""

from __future__ import annotations

import email.utils
import math
import random
from datetime import UTC, datetime


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header as seconds from `now`: delta-seconds or an HTTP-date (RFC 9110
    §10.2.3; a decimal is accepted too, as some APIs send one). None when absent or not
    understood; a date in the past is 0."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:  # an HTTP-date is GMT; a zone-less one is read as such
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def backoff_seconds(retry: int, retry_after: float | None, *, base: float, cap: float) -> float:
    """The wait before retry number `retry` (0 for the first): the server's Retry-After when it
    gave one, else base * 2^retry plus up to a second of jitter, so that clients which failed
    together do not come back together. Never more than `cap`."""
    if retry_after is not None:
        return min(retry_after, cap)
    jitter = random.random()  # noqa: S311 - spreading retries, not a secret
    return min(base * 2.0**retry + jitter, cap)
