"""Property-based: for any batch, every line lands in exactly one place and nothing is altered.

Two levels, because a dbt run costs seconds and an ingest milliseconds:
- ingest: many generated batches of arbitrary lines (JSON objects with any Unicode text,
  invalid JSON, non-UTF-8 bytes, blank lines) — each line is in bronze landing xor
  raw.ingest_errors, and a landed payload equals the JSON that was sent;
- pipeline: a few generated batches of records with a known fate (valid, or one defect) —
  after ingest and the bronze + silver runs each is in silver or rejected with its reason;
- arrival order: the same sales, products and corrections landed in any order and batching,
  one batch possibly committing late — after every incremental run each processed bronze
  version is in exactly one place, and the end state equals a full refresh of the same data.
All batches of a module share one database; each uses its own file (and id prefix).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.dbt_support import land
from tests.pgcluster import PostgresCluster
from tests.reliability.arrivals import Scenario, scenarios
from tests.reliability.corpus.build import PRODUCTS_FILE
from tests.reliability.records import Generated, free_text, records
from tests.reliability.support import (
    Database,
    create_database,
    drop_database,
    workbench,
    workbench_env,
)

pytestmark = pytest.mark.integration

_SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "derandomize": True,
}


@pytest.fixture(scope="module")
def database(
    pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Database, Path]]:
    db = create_database(pg_cluster)
    workdir = tmp_path_factory.mktemp("properties")
    with workbench_env(db, workdir):
        assert workbench("ingest", str(PRODUCTS_FILE), "--entity", "products") == 0
    try:
        yield db, workdir
    finally:
        drop_database(pg_cluster, db)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | free_text
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(free_text, inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(free_text, json_values, min_size=1, max_size=6)
garbage = st.sampled_from(
    [
        b'{"transaction_id": "x", ',
        b"not json",
        b'{"a": "caf\xe9"}',
        b'{"amount": NaN}',
        b'{"s": "\\u0000"}',
        b"{'single': 'quotes'}",
        b'{"a": 1}}',
    ]
)
lines = st.lists(
    st.one_of(
        json_objects.map(lambda o: json.dumps(o, ensure_ascii=False).encode()),
        garbage,
    ),
    min_size=1,
    max_size=25,
)


def _landing(db: Database, source_file: str) -> tuple[dict[int, Any], set[int]]:
    bronze = dict(
        db.rows(
            "select source_row, payload::text from raw.transactions where source_file = %s",
            (source_file,),
        )
    )
    errors = {
        row
        for (row,) in db.rows(
            "select source_row from raw.ingest_errors where source_file = %s", (source_file,)
        )
    }
    return bronze, errors


@settings(max_examples=100, **_SETTINGS)  # type: ignore[arg-type]
@given(batch=lines)
def test_every_ingested_line_lands_once_and_unaltered(
    database: tuple[Database, Path], batch: list[bytes]
) -> None:
    db, workdir = database
    path = workdir / f"batch-{uuid.uuid4().hex}.jsonl"
    path.write_bytes(b"".join(line + b"\n" for line in batch))
    with workbench_env(db, workdir):
        # A mostly-garbage batch exits 1 (tests/integration/test_ingest_garbage.py pins that
        # verdict); either way every line must land or be kept as an error, which is this test.
        assert workbench("ingest", str(path), "--entity", "transactions") in (0, 1)
    bronze, errors = _landing(db, str(path))
    assert not set(bronze) & errors, "a line landed twice"
    assert set(bronze) | errors == set(range(1, len(batch) + 1)), "a line was lost"
    for row, payload in bronze.items():
        # Decimal on both sides: jsonb keeps the number as written (3.3e+16 is exactly
        # 33000000000000000), where a float would round it.
        assert json.loads(payload, parse_float=Decimal) == json.loads(
            batch[row - 1].decode(), parse_float=Decimal
        ), row


def _batch(prefix: str) -> st.SearchStrategy[list[Generated]]:
    return st.integers(min_value=5, max_value=20).flatmap(
        lambda n: st.tuples(*[records(f"{prefix}-{i:03d}") for i in range(n)]).map(list)
    )


# No shrinking: every example costs a dbt invocation; a failure prints its whole batch.
@settings(max_examples=3, phases=[Phase.generate], **_SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_every_generated_record_reaches_its_contract_place(
    database: tuple[Database, Path], data: st.DataObject
) -> None:
    db, workdir = database
    prefix = f"P{uuid.uuid4().hex[:8]}"
    batch = data.draw(_batch(prefix))
    path = workdir / f"{prefix}.jsonl"
    path.write_bytes(b"".join(g.line() for g in batch))
    with workbench_env(db, workdir):
        assert workbench("ingest", str(path), "--entity", "transactions") == 0
        # One dbt invocation for both layers; dbt's own tests are not what is checked here.
        selection = (
            "--select",
            "tag:bronze tag:silver",
            "--exclude",
            "resource_type:test resource_type:unit_test",
        )
        assert workbench("run", "--layer", "silver", *selection) == 0
    raw_ids = dict(
        db.rows(
            "select source_row, raw_id from raw.transactions where source_file = %s", (str(path),)
        )
    )
    assert set(raw_ids) == set(range(1, len(batch) + 1))
    silver = {
        r
        for (r,) in db.rows(
            "select raw_id from silver.silver_validated_transactions where raw_id = any(%s)",
            (list(raw_ids.values()),),
        )
    }
    rejected = dict(
        db.rows(
            "select raw_id, rejection_reason from silver.silver_rejected_transactions"
            " where raw_id = any(%s)",
            (list(raw_ids.values()),),
        )
    )
    for row, generated in enumerate(batch, start=1):
        raw_id = raw_ids[row]
        if generated.outcome == "silver":
            assert raw_id in silver and raw_id not in rejected, generated.record
        else:
            assert raw_id not in silver, generated.record
            assert rejected.get(raw_id) == generated.reason, generated.record


_SILVER_MODELS = (
    "--select",
    "tag:bronze tag:silver",
    "--exclude",
    "resource_type:test resource_type:unit_test",
)
# An hourly run: the models and their data tests as the hourly job tests them (the batch only:
# dbt/macros/test_scope.sql), the batch reconciliation among them.
_HOURLY_RUN = (
    "--select",
    "tag:bronze tag:silver",
    "--exclude",
    "resource_type:unit_test tag:gold tag:platinum",
    "--vars",
    '{"test_scope": "batch"}',
)


def _misplaced_versions(db: Database) -> list[tuple[Any, ...]]:
    """Processed bronze versions not in exactly one place (the reconciliation's rules)."""
    return db.rows(
        """
        with processed as (
            select raw_id from bronze.bronze_transactions
            where bronze_loaded_at
                <= (select max(bronze_loaded_at) from silver.silver_transaction_versions)
        ),
        places as (
            select raw_id, 'validated' as place from silver.silver_validated_transactions
            union all
            select raw_id, 'rejected' from silver.silver_rejected_transactions
            union all
            select raw_id, 'superseded' from silver.silver_transaction_versions
            where fate = 'superseded'
        )
        select processed.raw_id, array_agg(places.place)
        from processed left join places using (raw_id)
        group by 1
        having count(places.place) <> 1
        """
    )


def _silver_content(db: Database, prefix: str) -> dict[str, list[tuple[Any, ...]]]:
    like = f"{prefix}-%"
    return {
        "validated": db.rows(
            "select transaction_id, raw_id, amount, version_count, latest_version_raw_id"
            " from silver.silver_validated_transactions where transaction_id like %s order by 1",
            (like,),
        ),
        "rejected": db.rows(
            "select raw_id, rejection_reasons, is_pending from silver.silver_rejected_transactions"
            " where transaction_id like %s order by 1",
            (like,),
        ),
    }


def _land_scenario(db: Database, workdir: Path, scenario: Scenario, prefix: str) -> None:
    held = None  # the late batch's open transaction, committed after the next run
    for number, batch in enumerate(scenario.batches):
        conn = db.connect()
        conn.autocommit = False
        for entity in ("products", "transactions"):
            records = [event.record for event in batch if event.entity == entity]
            if records:
                land(
                    conn,
                    entity,
                    records,
                    batch_id=f"{prefix}-{number}",
                    source_file=f"/landing/{prefix}-{entity}-{number}.jsonl",
                )
        if number == scenario.late_batch:
            held = conn
            continue
        conn.commit()
        conn.close()
        with workbench_env(db, workdir):
            assert workbench("run", "--layer", "silver", *_HOURLY_RUN) == 0
        assert _misplaced_versions(db) == [], (number, scenario)
        if held is not None:
            held.commit()
            held.close()
            held = None


# Each example costs one dbt run per batch plus a full refresh; two examples of up to three
# batches keep this within its budget (the example's wall time is in the docs' test table).
@settings(max_examples=2, phases=[Phase.generate], **_SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_any_arrival_order_ends_where_a_full_refresh_does(
    database: tuple[Database, Path], data: st.DataObject
) -> None:
    db, workdir = database
    prefix = f"A{uuid.uuid4().hex[:8]}"
    scenario = data.draw(scenarios(prefix))
    _land_scenario(db, workdir, scenario, prefix)
    with workbench_env(db, workdir):
        # everything landed and committed: one more run judges what is still pending
        assert workbench("run", "--layer", "silver", *_HOURLY_RUN) == 0
    assert _misplaced_versions(db) == [], scenario
    incremental = _silver_content(db, prefix)
    with workbench_env(db, workdir):
        assert workbench("run", "--layer", "silver", *_SILVER_MODELS, "--full-refresh", "true") == 0
    assert _silver_content(db, prefix) == incremental, scenario
    assert incremental["validated"], scenario
