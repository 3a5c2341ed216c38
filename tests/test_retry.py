"""The waits between attempts at an HTTP peer (workbench/retry.py), used by the Drive client
and the OpenAI-compatible embedder: what a server's Retry-After means (RFC 9110 §10.2.3) and
how the backoff grows, spreads and stops."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from workbench.retry import backoff_seconds, retry_after_seconds

NOW = datetime(2026, 12, 7, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("0.25", 0.25),  # not RFC delta-seconds, but sent by some APIs
        ("Mon, 07 Dec 2026 01:00:30 GMT", 30.0),  # an HTTP-date, 30 s after NOW
        ("Mon, 07 Dec 2026 00:59:00 GMT", 0.0),  # already past: retry now
        ("-5", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("inf", None),
    ],
)
def test_retry_after_is_read_as_seconds_from_now(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


def test_the_servers_retry_after_wins_up_to_the_cap() -> None:
    assert backoff_seconds(3, 7.0, base=1.0, cap=64.0) == 7.0
    assert backoff_seconds(0, 600.0, base=1.0, cap=64.0) == 64.0


def test_without_retry_after_the_wait_doubles_spread_by_up_to_a_second_then_stops_growing() -> None:
    for retry, low in enumerate((0.5, 1.0, 2.0, 4.0)):
        waits = [backoff_seconds(retry, None, base=0.5, cap=30.0) for _ in range(200)]
        assert all(low <= wait < low + 1 for wait in waits)
        assert len(set(waits)) > 1  # jittered: clients that failed together spread out
    assert backoff_seconds(10, None, base=0.5, cap=30.0) == 30.0
