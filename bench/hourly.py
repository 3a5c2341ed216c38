"""The hourly silver job, whole: `workbench run --layer silver` from process start to exit
(lock, input check, dbt start-up, models and tests, history) after 1 % new rows, against the
full-refresh job of the same layer (`--full-refresh true`, models and tests).

Setup (untimed): the dataset ingested and every layer built once, then one hourly job so the
next one has a baseline. Each repeat lands a 1 % batch (new transaction ids, defects
included) through ingest and bronze (untimed), times the hourly job, then the full refresh.
Then: the job with nothing new (it skips), and the job after 1k, 10k and 100k new rows, to show
the time follows the new rows. Tests' seconds (dbt's execution_time) are reported apart.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from bench.cluster import throwaway_server
from bench.context import BenchContext
from bench.dataset import Dataset, dataset, increment_file
from bench.dbt_artifacts import seconds_by_kind
from bench.pipeline import build_all, ingest_dataset
from bench.proc import run_measured
from bench.results import BenchResult, Side
from bench.stats import series

NAME = "hourly"
TITLE = "Hourly silver job (models + tests) after 1% new rows vs the full-refresh job"
TARGET = 0.05
SHARE = 0.01
GROWTH_ROWS = (1_000, 10_000, 100_000)
HOURLY = ("run", "--layer", "silver")


@dataclass(frozen=True)
class Job:
    wall_seconds: float
    exit_code: int
    model_seconds: float
    test_seconds: float

    def as_dict(self) -> dict[str, object]:
        return {
            "wall_seconds": round(self.wall_seconds, 3),
            "exit_code": self.exit_code,
            "model_sql_seconds": round(self.model_seconds, 3),
            "test_sql_seconds": round(self.test_seconds, 3),
        }


def _job(ctx: BenchContext, env: dict[str, str], run_dir: Path, *extra: str) -> Job:
    target = Path(env["DBT_TARGET_PATH"])
    (target / "run_results.json").unlink(missing_ok=True)
    # exit 1 (a data test failed on the synthetic defects) is still a measured job
    measured = run_measured(
        [ctx.workbench, *HOURLY, *extra], env=env, log=run_dir / "hourly.log", check=False
    )
    kinds = (
        seconds_by_kind(target)
        if (target / "run_results.json").is_file()
        else {"models": 0.0, "tests": 0.0}
    )
    return Job(measured.seconds, measured.exit_code, kinds["models"], kinds["tests"])


def _land(
    ctx: BenchContext, env: dict[str, str], ds: Dataset, rows: int, tag: str, run_dir: Path
) -> int:
    batch = run_dir / f"batch-{tag}.jsonl"
    landed = increment_file(ds, batch, rows / ds.transactions, tag)
    log = run_dir / "batches.log"
    run_measured(
        [ctx.workbench, "ingest", str(batch), "--entity", "transactions"], env=env, log=log
    )
    run_measured([ctx.workbench, "run", "--layer", "bronze"], env=env, log=log)
    return landed


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME,
        title=TITLE,
        scale=ctx.scale,
        target=TARGET,
        target_text=f"<= {TARGET}x (at 10M)",
    )
    run_dir = ctx.fresh_run_dir(NAME)
    ds = dataset(ctx, ctx.scale)
    with throwaway_server(ctx.workdir, NAME) as server:
        dbname = f"hourly_{ctx.scale}"
        env = ingest_dataset(ctx, server, ds, dbname, run_dir)
        build_all(ctx, env, run_dir)
        _job(ctx, env, run_dir)  # the baseline the next hourly job compares its inputs with
        hourly: list[Job] = []
        full: list[Job] = []
        new_rows = 0
        for i in range(ctx.repeats):
            new_rows = _land(ctx, env, ds, math.ceil(ds.transactions * SHARE), f"HR{i}", run_dir)
            hourly.append(_job(ctx, env, run_dir))
            full.append(_job(ctx, env, run_dir, "--full-refresh", "true"))
        _job(ctx, env, run_dir)  # after a full refresh: the next job has a baseline again
        nothing_new = [_job(ctx, env, run_dir) for _ in range(ctx.repeats)]
        growth = {}
        for rows in GROWTH_ROWS:
            landed = _land(ctx, env, ds, rows, f"G{rows}", run_dir)
            growth[str(landed)] = _job(ctx, env, run_dir).as_dict()
        server.drop_database(dbname)

    command = "workbench run --layer silver"
    result.candidate = Side(
        "hourly job",
        f"{command} after {SHARE:.0%} new rows",
        series([j.wall_seconds for j in hourly]),
    )
    result.baseline = Side(
        "full-refresh job", f"{command} --full-refresh true", series([j.wall_seconds for j in full])
    )
    result.extra = {
        "new_rows_per_batch": new_rows,
        "hourly_runs": [j.as_dict() for j in hourly],
        "full_refresh_runs": [j.as_dict() for j in full],
        "hourly_test_sql_seconds": series([j.test_seconds for j in hourly]).as_dict(),
        "hourly_model_sql_seconds": series([j.model_seconds for j in hourly]).as_dict(),
        "full_refresh_test_sql_seconds": series([j.test_seconds for j in full]).as_dict(),
        "nothing_new_wall_seconds": series([j.wall_seconds for j in nothing_new]).as_dict(),
        "nothing_new_exit_codes": [j.exit_code for j in nothing_new],
        "growth_by_new_rows": growth,
    }
    result.notes.append(
        "ratio = wall-clock of the whole job, process start to exit, models and tests; "
        "*_sql_seconds are dbt's own execution times summed per kind of node."
    )
    if ctx.scale < 10_000_000:
        result.notes.append(
            f"Measured at {ctx.scale:,} transactions; the target is set at 10M "
            "(python -m bench --only hourly --scale 10000000)."
        )
    return result
