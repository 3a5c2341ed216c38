"""Raw landings generated in SQL for the bronze benchmarks: records shaped like a sale line
(bronze never parses them), as many as asked, without files or HTTP in the way; and the daily
bronze job that builds bronze from them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bench.cluster import BenchServer
from bench.proc import run_measured
from workbench.ingest.schema import ensure_raw_schema
from workbench.serve.follower import FOLLOWER_ENV, bronze_command

_INSERT = """
insert into raw.transactions
    (payload, source, source_file, source_row, batch_id, payload_sha256, ingested_at)
select jsonb_build_object(
           'transaction_id', %(tag)s || '-' || g, 'transaction_date', '2026-11-01',
           'store_id', 'S' || g %% 40, 'product_id', 'P' || g %% 800, 'basket_id', 'B' || g / 3,
           'category', 'Snacks', 'quantity', 2, 'unit_price', '18.50', 'amount', 37.0,
           'payment_method', 'cash', 'status', 'completed', 'customer_id', 'C' || g %% 5000),
       'jsonl', %(tag)s, g, %(tag)s, md5(%(tag)s || g),
       now() - %(ago)s::interval + g * %(step)s::interval
from generate_series(1, %(count)s) as g
"""


def fill_raw(server: BenchServer, dbname: str, rows: int) -> None:
    """`rows` records landed over the last 30 days, then vacuumed and analyzed, as autovacuum
    leaves an insert-only table (its BRIN ranges summarized)."""
    with server.connect(dbname) as conn:
        ensure_raw_schema(conn)
        step = f"{30 * 86400 / max(rows, 1):.3f} s"
        conn.execute(_INSERT, {"tag": "old", "ago": "30 days", "step": step, "count": rows})
        conn.execute("vacuum (analyze) raw.transactions")


def land_new(server: BenchServer, dbname: str, tag: str, count: int) -> None:
    """`count` records landed just now (not analyzed: autovacuum has not seen them yet)."""
    with server.connect(dbname) as conn:
        conn.execute(_INSERT, {"tag": tag, "ago": "0 s", "step": "1 ms", "count": count})


def build_bronze_daily(env: Mapping[str, str], log: Path) -> None:
    """Bronze built as the daily job builds it: the follower's command without its batch scope
    (whole-table tests), forced."""
    daily = {**env, **{key: "" for key in FOLLOWER_ENV}}
    run_measured([*bronze_command(), "--force"], env=daily, log=log)
