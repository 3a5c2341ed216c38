"""Incremental: the hourly silver models after 1 % new rows vs a full refresh of the same models.

Setup (untimed): dataset ingested, everything built once. Each repeat lands a new batch of 1 %
(records copied from the dataset with new transaction ids, defects included), moves it into
bronze (untimed), then times the silver models incrementally and then with --full-refresh.
A 0.1 % batch at the same table size shows whether the time follows the new rows or the table.
Then 1 % of sales land before their products (pending rejections, which every run judges
again) and a further 1 % batch is timed: the cost must follow new rows + pending, not bronze.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.cluster import BenchServer, throwaway_server
from bench.context import NO_TESTS, BenchContext
from bench.dataset import Dataset, dataset, increment_file
from bench.dbt_artifacts import model_seconds
from bench.pipeline import build_all, ingest_dataset
from bench.proc import run_measured
from bench.results import BenchResult, Side
from bench.stats import Series, series

NAME = "incremental"
TITLE = "Incremental silver after 1% new rows vs full refresh"
TARGET = 0.05
SILVER_MODELS = "tag:silver,resource_type:model"
SHARE = 0.01
SMALL_SHARE = 0.001
PENDING_SHARE = 0.01


def _land_batch(
    ctx: BenchContext,
    env: dict[str, str],
    ds: Dataset,
    share: float,
    tag: str,
    run_dir: Path,
    unknown_products: bool = False,
) -> int:
    batch = run_dir / f"batch-{tag}.jsonl"
    rows = increment_file(ds, batch, share, tag, unknown_products)
    log = run_dir / "batches.log"
    run_measured(
        [ctx.workbench, "ingest", str(batch), "--entity", "transactions"], env=env, log=log
    )
    run_measured([ctx.workbench, "run", "--layer", "bronze"], env=env, log=log)
    return rows


def _silver(
    ctx: BenchContext, env: dict[str, str], run_dir: Path, full_refresh: bool
) -> tuple[float, float]:
    """Wall-clock seconds of the command, and the models' own SQL seconds (run_results.json)."""
    argv = [
        ctx.workbench,
        "run",
        "--layer",
        "silver",
        "--select",
        SILVER_MODELS,
        "--exclude",
        NO_TESTS,
    ]
    if full_refresh:
        argv += ["--full-refresh", "true"]
    seconds = run_measured(argv, env=env, log=run_dir / "silver.log").seconds
    return seconds, model_seconds(Path(env["DBT_TARGET_PATH"]))


@dataclass(frozen=True)
class SizeResult:
    transactions: int
    silver_rows_after: int
    new_rows_per_batch: int
    incremental: Series  # wall-clock seconds of the whole command
    full_refresh: Series
    incremental_models: Series  # the models' own SQL seconds (dbt's execution_time)
    full_refresh_models: Series
    small_batch_rows: int
    small_batch_seconds: tuple[float, float]  # wall-clock, models
    pending_rejections: int
    pending_batch_seconds: tuple[float, float]  # wall-clock, models; 1 % new + the pending

    def as_dict(self) -> dict[str, object]:
        return {
            "transactions": self.transactions,
            "silver_rows_after": self.silver_rows_after,
            "new_rows_per_batch": self.new_rows_per_batch,
            "incremental_seconds": self.incremental.as_dict(),
            "full_refresh_seconds": self.full_refresh.as_dict(),
            "incremental_share_of_full_refresh": round(
                self.incremental.median / self.full_refresh.median, 4
            ),
            "incremental_model_sql_seconds": self.incremental_models.as_dict(),
            "full_refresh_model_sql_seconds": self.full_refresh_models.as_dict(),
            "incremental_share_of_full_refresh_model_sql": round(
                self.incremental_models.median / self.full_refresh_models.median, 4
            ),
            "small_batch_rows": self.small_batch_rows,
            "small_batch_incremental_seconds": round(self.small_batch_seconds[0], 3),
            "small_batch_incremental_model_sql_seconds": round(self.small_batch_seconds[1], 3),
            "pending_rejections": self.pending_rejections,
            "pending_batch_incremental_seconds": round(self.pending_batch_seconds[0], 3),
            "pending_batch_incremental_model_sql_seconds": round(self.pending_batch_seconds[1], 3),
            "pending_batch_share_of_full_refresh_model_sql": round(
                self.pending_batch_seconds[1] / self.full_refresh_models.median, 4
            ),
        }

    def headline(self) -> str:
        return (
            f"{self.transactions:,} tx: model SQL {self.incremental_models.median:.2f} s for "
            f"{self.new_rows_per_batch:,} new rows, {self.small_batch_seconds[1]:.2f} s for "
            f"{self.small_batch_rows:,}, {self.full_refresh_models.median:.2f} s full refresh "
            f"(x{self.incremental_models.median / self.full_refresh_models.median:.3f}); "
            f"{self.pending_batch_seconds[1]:.2f} s for {self.new_rows_per_batch:,} new rows with "
            f"{self.pending_rejections:,} pending rejections; "
            f"wall-clock {self.incremental.median:.2f} s vs {self.full_refresh.median:.2f} s"
        )


def _measure_size(
    ctx: BenchContext, server: BenchServer, rows: int, run_dir: Path, repeats: int
) -> SizeResult:
    ds = dataset(ctx, rows)
    dbname = f"incr_{rows}"
    env = ingest_dataset(ctx, server, ds, dbname, run_dir)
    build_all(ctx, env, run_dir)
    incremental: list[tuple[float, float]] = []
    full: list[tuple[float, float]] = []
    new_rows = 0
    for i in range(repeats):
        new_rows = _land_batch(ctx, env, ds, SHARE, f"INC{i}", run_dir)
        incremental.append(_silver(ctx, env, run_dir, full_refresh=False))
        full.append(_silver(ctx, env, run_dir, full_refresh=True))
    small_rows = _land_batch(ctx, env, ds, SMALL_SHARE, "SMALL", run_dir)
    small = _silver(ctx, env, run_dir, full_refresh=False)
    _land_batch(ctx, env, ds, PENDING_SHARE, "PENDING", run_dir, unknown_products=True)
    _silver(ctx, env, run_dir, full_refresh=False)  # they become pending rejections
    pending = int(
        server.scalar(
            dbname, "select count(*) from silver.silver_rejected_transactions where is_pending"
        )
    )
    _land_batch(ctx, env, ds, SHARE, "AFTER-PENDING", run_dir)
    with_pending = _silver(ctx, env, run_dir, full_refresh=False)
    silver_rows = int(
        server.scalar(dbname, "select count(*) from silver.silver_validated_transactions")
    )
    server.drop_database(dbname)
    return SizeResult(
        transactions=rows,
        silver_rows_after=silver_rows,
        new_rows_per_batch=new_rows,
        incremental=series([wall for wall, _ in incremental]),
        full_refresh=series([wall for wall, _ in full]),
        incremental_models=series([sql for _, sql in incremental]),
        full_refresh_models=series([sql for _, sql in full]),
        small_batch_rows=small_rows,
        small_batch_seconds=small,
        pending_rejections=pending,
        pending_batch_seconds=with_pending,
    )


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME,
        title=TITLE,
        scale=ctx.scale,
        target=TARGET,
        target_text=f"<= {TARGET}x (at 10M)",
    )
    run_dir = ctx.fresh_run_dir(NAME)
    sizes: list[SizeResult] = []
    with throwaway_server(ctx.workdir, NAME) as server:
        sizes.append(_measure_size(ctx, server, ctx.scale, run_dir, ctx.repeats))
        if ctx.big_scale:
            sizes.append(_measure_size(ctx, server, ctx.big_scale, run_dir, ctx.repeats))
    headline = sizes[-1]
    result.scale = headline.transactions
    selection = f"workbench run --layer silver --select '{SILVER_MODELS}' --exclude '{NO_TESTS}'"
    result.candidate = Side(
        "incremental", f"{selection} after {SHARE:.0%} new rows", headline.incremental
    )
    result.baseline = Side(
        "full refresh", f"{selection} --full-refresh true", headline.full_refresh
    )
    result.extra = {
        "sizes": [size.as_dict() for size in sizes],
        "headline_growth": "; ".join(size.headline() for size in sizes),
    }
    result.notes.append(
        "ratio = wall-clock of the whole command (includes ~dbt start-up, parse, lock, "
        "history); the *_model_sql_seconds fields are dbt's own per-model execution times."
    )
    if not ctx.big_scale:
        result.notes.append("Measured at --scale only (--big-scale 0); the target is set at 10M.")
    return result
