"""The project's safe-cast macros never raise, whatever text a producer sends, and agree with a
plain reading of the contract. The macros are compiled by dbt once; hypothesis then feeds
hostile and near-valid strings through them on a real PostgreSQL, as table data (constants would
be folded at plan time, which real rows never are).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg
import pytest
from dbt.cli.main import dbtRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import dbt_support as dbt
from tests.pgcluster import PostgresCluster
from workbench.config import dbt_project_dir

pytestmark = pytest.mark.integration

CASTS = (
    "select v, {{ safe_integer('v') }} as as_integer, {{ safe_decimal('v') }} as as_decimal,"
    " {{ safe_date('v') }} as as_date,"
    # as text: Python cannot hold a timestamptz before year 1, PostgreSQL can
    " ({{ safe_timestamptz('v') }})::text as as_timestamptz,"
    " {{ safe_boolean('v') }} as as_boolean from fuzz_values"
)

_digits = st.text("0123456789", min_size=1, max_size=3)
# near-valid calendar parts: mostly in range, sometimes just past it
_date_like = st.builds(
    lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
    st.integers(0, 9999),
    st.integers(0, 13),
    st.integers(0, 32),
)
_zones = st.sampled_from(["", "Z", "+08:00", "-0530", "+16:00", "-15:59", "+1", "+99", "+08:60"])
_timestamp_like = st.builds(
    lambda d, sep, h, mi, s, frac, zone: f"{d}{sep}{h:02d}:{mi:02d}:{s:02d}{frac}{zone}",
    _date_like,
    st.sampled_from(["T", " ", "t"]),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["", ".5", ".123456", ".1234567"]),
    _zones,
)
_number_like = st.from_regex(r"[+-]?[0-9]{0,14}(\.[0-9]{0,4})?(e[0-9])?", fullmatch=True)
_values = st.one_of(
    _date_like,
    _timestamp_like,
    _number_like,
    _digits,
    st.sampled_from(["true", " No", "1", "maybe", "", " ", "NaN", "Infinity", "-0"]),
    st.text(max_size=24),
).map(lambda text: text.replace("\x00", ""))


@pytest.fixture(scope="module")
def cast_sql(pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path_factory.mktemp("dbt-casts")
    project = str(dbt_project_dir())
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**pg_cluster.env(), "DBT_TARGET_PATH": str(target)}.items():
            patch.setenv(key, value)
        dirs = ["--project-dir", project, "--profiles-dir", project, "--log-path", str(target)]
        result = dbtRunner().invoke(["compile", "--inline", CASTS, "--quiet", *dirs])
    assert result.success, result.exception
    results = getattr(result.result, "results", None)
    assert results, "dbt compile --inline returned no node"
    sql = getattr(results[0].node, "compiled_code", None)
    assert isinstance(sql, str)
    return sql


@pytest.fixture(scope="module")
def conn(pg_cluster: PostgresCluster) -> Iterator[psycopg.Connection[Any]]:
    with dbt.connect(pg_cluster.env()) as connection:
        connection.execute("create temporary table fuzz_values (v text)")
        yield connection


def _expected_date(text: str) -> date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text) or text.startswith("0000"):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _expected_decimal(text: str) -> Decimal | None:
    if not re.fullmatch(r"[+-]?([0-9]{1,12}(\.[0-9]*)?|\.[0-9]+)", text):
        return None
    return Decimal(text).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(_values, min_size=200, max_size=400))
def test_safe_casts_never_raise_and_read_only_valid_text(
    cast_sql: str, conn: psycopg.Connection[Any], values: list[str]
) -> None:
    with conn.transaction():
        conn.execute("truncate fuzz_values")
        with conn.cursor() as cur:
            cur.executemany("insert into fuzz_values (v) values (%s)", [(v,) for v in values])
        rows = conn.execute(cast_sql.encode()).fetchall()
    assert len(rows) == len(values)
    for text, as_integer, as_decimal, as_date, as_timestamptz, _as_boolean in rows:
        integer_ok = re.fullmatch(r"[+-]?[0-9]{1,9}", text) is not None
        assert as_integer == (int(text) if integer_ok else None), text
        assert as_decimal == _expected_decimal(text), text
        assert as_date == _expected_date(text), text
        if as_timestamptz is not None:
            assert _expected_date(text[:10]) is not None, text
