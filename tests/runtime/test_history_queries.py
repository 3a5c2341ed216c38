"""The three README queries (docs/operate.md) return the right answers on recorded history."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from tests.runtime.pg_watch import conninfo
from tests.runtime.records_factory import invocation, node
from workbench.config import PROJECT_ROOT
from workbench.observability.history import (
    ensure_history_schema,
    last_success_at,
    migrations,
    write_invocation,
)
from workbench.observability.records import InvocationResult

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


def documented_query(title: str) -> str:
    """The ```sql block of docs/operate.md whose first line is `-- <title>`."""
    text = (PROJECT_ROOT / "docs" / "operate.md").read_text()
    for block in re.findall(r"```sql\n(.*?)```", text, flags=re.S):
        if block.startswith(f"-- {title}\n"):
            return str(block)
    raise AssertionError(f"docs/operate.md has no sql block titled {title!r}")


def ago(hours: float) -> datetime:
    return NOW - timedelta(hours=hours)


def test_migrations_are_idempotent_and_versioned(pg_env: dict[str, str]) -> None:
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        assert ensure_history_schema(conn) == [version for version, _, _ in migrations()]
        assert ensure_history_schema(conn) == []
        versions = [row[0] for row in conn.execute("select version from ops.schema_migrations")]
    assert versions == [1, 2, 3]


def test_when_did_gold_last_succeed(pg_env: dict[str, str]) -> None:
    partial = replace(invocation("gold", 0, at=ago(5)), select="gold_monthly_summary")
    recorded = [
        invocation("gold", 0, at=ago(30), workflow_name="gold-early"),
        invocation("all", 0, at=ago(20), workflow_name="all-nightly"),
        partial,  # a --select run does not prove the whole layer built
        invocation("gold", 1, at=ago(2)),
        invocation("silver", 0, at=ago(1)),
    ]
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        ensure_history_schema(conn)
        for result in recorded:
            write_invocation(conn, result)
        rows = conn.execute(documented_query("When did gold last succeed?")).fetchall()
    assert rows == [(recorded[1].finished_at, "all", "all-nightly", None)]


def test_which_tests_failed_in_the_last_24_hours(pg_env: dict[str, str]) -> None:
    recorded = [
        invocation(
            "silver",
            1,
            at=ago(3),
            nodes=(
                node("test.scout_retail.recent_fail", "fail", failures=4, at=ago(3)),
                node("test.scout_retail.passing", "pass", failures=0, at=ago(3)),
                node("test.scout_retail.warning", "warn", failures=2, at=ago(3)),
                node("model.scout_retail.broken_model", "error", at=ago(3)),
            ),
            workflow_name="silver-hourly-1",
        ),
        invocation(
            "gold",
            2,
            at=ago(10),
            nodes=(node("test.scout_retail.errored", "error", at=ago(10)),),
        ),
        invocation(
            "silver",
            1,
            at=ago(30),
            nodes=(node("test.scout_retail.old_fail", "fail", failures=9, at=ago(30)),),
        ),
    ]
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        ensure_history_schema(conn)
        for result in recorded:
            write_invocation(conn, result)
        rows = conn.execute(documented_query("Which tests failed in the last 24 h?")).fetchall()
    assert [(row[0], row[1], row[2], row[4], row[5]) for row in rows] == [
        ("test.scout_retail.recent_fail", "fail", 4, "silver", "silver-hourly-1"),
        ("test.scout_retail.errored", "error", None, "gold", None),
    ]


def test_which_model_got_slower_this_week(pg_env: dict[str, str]) -> None:
    def run(hours_ago: float, durations: dict[str, float]) -> InvocationResult:
        return invocation(
            "silver",
            0,
            at=ago(hours_ago),
            nodes=tuple(
                node(f"model.scout_retail.{name}", duration=seconds, at=ago(hours_ago))
                for name, seconds in durations.items()
            ),
        )

    recorded = [
        run(24 * 10, {"doubled": 10, "steady": 5, "a_bit_slower": 3, "faster": 8}),
        run(24 * 9, {"doubled": 10, "steady": 5, "a_bit_slower": 3, "faster": 8}),
        run(24 * 2, {"doubled": 20, "steady": 5, "a_bit_slower": 4, "faster": 2, "new": 50}),
        run(24 * 20, {"steady": 1}),  # older than two weeks: ignored
    ]
    failed_slow = invocation(
        "silver",
        1,
        at=ago(1),
        nodes=(node("model.scout_retail.steady", "error", duration=99, at=ago(1)),),
    )
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        ensure_history_schema(conn)
        for result in [*recorded, failed_slow]:
            write_invocation(conn, result)
        rows = conn.execute(documented_query("Which model got slower this week?")).fetchall()
    assert [(row[0], float(row[1]), float(row[2]), float(row[3])) for row in rows] == [
        ("model.scout_retail.doubled", 10.0, 20.0, 2.0),
        ("model.scout_retail.a_bit_slower", 3.0, 4.0, 1.33),
    ]


def test_a_custom_selection_is_not_the_layers_last_success(pg_env: dict[str, str]) -> None:
    """The stale-layer metric reads last_success_at: a --select run must not refresh it."""
    full = invocation("silver", 0, at=ago(10))
    recorded = [
        full,
        replace(invocation("silver", 0, at=ago(1)), select="silver_products+"),
        replace(invocation("silver", 0, at=ago(2)), exclude="silver_products"),
    ]
    with psycopg.connect(conninfo(pg_env), autocommit=True) as conn:
        ensure_history_schema(conn)
        for result in recorded:
            write_invocation(conn, result)
        assert last_success_at(conn, "silver") == full.finished_at
