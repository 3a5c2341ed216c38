"""Results never depend on the server's time zone setting: the same records pick the same
winners on a server whose `timezone` is Asia/Manila as on one set to UTC.

A timestamp without a zone is read as UTC in SQL (dbt/macros/safe_casts.sql), so even a plain
`dbt build` whose session follows the server reads it the same; and every connection the
runtime opens fixes its session time zone to UTC (workbench.contract.SESSION_TIMEZONE).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests import dbt_support as dbt
from tests.runtime.landing import land_jsonl
from workbench.config import PostgresSettings
from workbench.contract import SESSION_TIMEZONE

pytestmark = pytest.mark.integration

PRODUCT = {
    "product_id": "P1",
    "product_name": "Kopiko Brown",
    "brand": "Kopiko",
    "category": "Beverages",
    "unit_price": "12.50",
    "is_active": True,
    "updated_at": "2026-11-01T00:00:00Z",
}


def _sale(amount: str, quantity: int, updated_at: str) -> dict[str, object]:
    return {
        "transaction_id": "T1",
        "transaction_date": "2026-11-01",
        "store_id": "S1",
        "product_id": "P1",
        "basket_id": "B1",
        "category": "Beverages",
        "quantity": quantity,
        "unit_price": "12.50",
        "amount": amount,
        "payment_method": "cash",
        "status": "completed",
        "updated_at": updated_at,
    }


@pytest.fixture()
def manila_env(pg_env: dict[str, str]) -> dict[str, str]:
    """The test database answers every session that does not say otherwise in Asia/Manila."""
    with dbt.connect(pg_env) as conn:
        conn.execute(f"alter database {pg_env['POSTGRES_DB']} set timezone = 'Asia/Manila'")
    return pg_env


def test_the_runtimes_sessions_are_utc_on_a_manila_server(
    manila_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # An earlier dbt invocation in this process set PGTZ (dbt_cli.invoke): libpq would obey it.
    monkeypatch.delenv("PGTZ", raising=False)
    settings = PostgresSettings.from_env(manila_env)
    plain = settings.conninfo().replace(f"options='-c TimeZone={SESSION_TIMEZONE}'", "")
    with psycopg.connect(plain) as conn:
        assert conn.execute("show timezone").fetchone() == ("Asia/Manila",)
    with psycopg.connect(settings.conninfo()) as conn:
        assert conn.execute("show timezone").fetchone() == (SESSION_TIMEZONE,)


def test_a_manila_server_picks_the_same_winner(
    manila_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Version 1 says 10:00Z; version 2 says 12:00 with no zone, i.e. 12:00 UTC: version 2 is
    the later one. Read in Manila it would be 04:00Z, and version 1 would win."""
    monkeypatch.delenv("PGTZ", raising=False)  # a plain `dbt` session follows the server
    (tmp_path / "products.jsonl").write_text(json.dumps(PRODUCT) + "\n")
    versions = [
        _sale("12.50", 1, "2026-11-01T10:00:00Z"),
        _sale("25.00", 2, "2026-11-01T12:00:00"),
    ]
    (tmp_path / "transactions.jsonl").write_text("".join(json.dumps(v) + "\n" for v in versions))
    with dbt.connect(manila_env) as conn:
        land_jsonl(conn, tmp_path / "products.jsonl", "products")
        land_jsonl(conn, tmp_path / "transactions.jsonl", "transactions")
    built = dbt.run_dbt(
        ["build", "--select", "+silver_validated_transactions", "--exclude", "test_type:data"],
        manila_env,
        tmp_path / "target",
    )
    assert built.returncode == 0, built.stdout[-3000:]
    with dbt.connect(manila_env) as conn:
        conn.execute("set timezone = 'UTC'")
        winner = conn.execute(
            "select amount, updated_at from silver.silver_validated_transactions"
        ).fetchall()
    assert winner == [(Decimal("25.00"), datetime(2026, 11, 1, 12, 0, tzinfo=UTC))]
