"""Bronze's incremental filter reads raw through its raw_id index, not by a whole-table scan.

A bronze micro-batch (the serve follower's run after a few landings) must cost what its batch
costs. On real PostgreSQL with 50k raw transactions bronze already has (landed over 30 days,
analyzed) and 1,000 new ones, the SQL dbt compiles for the incremental bronze_transactions is
run under `EXPLAIN (FORMAT JSON, VERBOSE)`: raw.transactions is read by a (bitmap) index scan on
`transactions_raw_id_idx`, and no table (raw or bronze) by a Seq Scan. The filter's earlier
shape, `raw_id > (select max ...) or (late window and not exists ...)`, failed it: the
`not exists` under an `or` cannot become an anti-join, so PostgreSQL ran it as a hashed SubPlan
over a Seq Scan of all of bronze (and, its bounds being parameters it cannot estimate, guessed a
third of raw for each arm of the `or`). Run, it reads only the BRIN ranges of the new rows and
the window: the ranges the old rows filled are summarized (autosummarize, ingest/schema.py).

The rows it selects are those of the earlier filter (dbt/macros/not_yet_in_bronze.sql), late
commits included: tests/reliability/test_properties.py and test_concurrency.py land late.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_support import connect, run_dbt
from workbench.ingest.schema import ensure_raw_schema

pytestmark = pytest.mark.integration

LOADED = 50_000
NEW = 1_000
INSERT = """
insert into raw.transactions
    (payload, source, source_file, source_row, batch_id, payload_sha256, ingested_at)
select jsonb_build_object('transaction_id', 'T' || g), 'jsonl', %(file)s, g, %(file)s,
       md5(g::text), now() - %(ago)s::interval + g * %(step)s::interval
from generate_series(1, %(count)s) as g
"""


def _plan_nodes(plan: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def _compiled(target: Path, model: str) -> str:
    (path,) = target.glob(f"compiled/scout_retail/models/bronze/{model}.sql")
    return path.read_text()


def test_incremental_bronze_reads_raw_by_its_raw_id_index(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    with connect(pg_env) as conn:
        ensure_raw_schema(conn)
        # 50k rows that landed over the last 30 days, oldest first (raw_id follows ingested_at)
        conn.execute(
            INSERT,
            {"file": "old", "ago": "30 days", "step": "50 seconds", "count": LOADED},
        )
    target = tmp_path / "target"
    built = run_dbt(["run", "--select", "bronze_transactions"], pg_env, target)
    assert built.returncode == 0, built.stdout + built.stderr
    with connect(pg_env) as conn:
        # what autovacuum does with the ranges the old rows filled (autosummarize, schema.py)
        for index in ("transactions_raw_id_idx", "transactions_ingested_at_idx"):
            conn.execute(f"select brin_summarize_new_values('raw.{index}')")
            options = conn.execute(
                "select reloptions from pg_class where oid = %s::regclass", (f"raw.{index}",)
            ).fetchone()
            assert options and "autosummarize=on" in (options[0] or [])
        conn.execute(INSERT, {"file": "new", "ago": "0 s", "step": "1 ms", "count": NEW})
        conn.execute("analyze raw.transactions")
    compiled = run_dbt(["compile", "--select", "bronze_transactions"], pg_env, target)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    sql = _compiled(target, "bronze_transactions")

    with connect(pg_env) as conn:
        (plan_json,) = conn.execute(f"explain (format json, verbose) {sql}").fetchone() or (None,)
        (count,) = conn.execute(f"select count(*) from ({sql}) as batch").fetchone() or (None,)
        (analyzed,) = conn.execute(f"explain (analyze, format json) {sql}").fetchone() or (None,)
        (raw_pages,) = conn.execute(
            "select relpages from pg_class where oid = 'raw.transactions'::regclass"
        ).fetchone() or (None,)
    print(conn.execute(f"explain (analyze, buffers) {sql}").fetchall() if False else "")
    assert count == NEW
    plan = (plan_json if isinstance(plan_json, list) else json.loads(plan_json))[0]["Plan"]
    nodes = list(_plan_nodes(plan))
    described = json.dumps(plan, indent=1)
    seq_scans = [
        f"{n['Schema']}.{n['Relation Name']}" for n in nodes if n["Node Type"] == "Seq Scan"
    ]
    assert not seq_scans, f"whole-table reads {seq_scans}:\n{described}"
    assert any(n.get("Index Name") == "transactions_raw_id_idx" for n in nodes), (
        f"raw.transactions not read through transactions_raw_id_idx:\n{described}"
    )
    # and the index skips what it should: of raw, the BRIN ranges (128 pages each) that hold the
    # new rows and the late window, at most two per select, not the table (twice, unsummarized)
    run = (analyzed if isinstance(analyzed, list) else json.loads(analyzed))[0]["Plan"]
    read = sum(
        n.get("Exact Heap Blocks", 0) + n.get("Lossy Heap Blocks", 0)
        for n in _plan_nodes(run)
        if n.get("Relation Name") == "transactions"
    )
    assert read <= 4 * 128 < raw_pages, f"read {read} of raw's {raw_pages} pages"
