"""Full refresh, repeated: `workbench run --layer silver --full-refresh` ten times on one database.

The weekly job. Before the seeds stopped being dropped on a full refresh, two seed threads each
ran `drop table ... cascade` into the one view over both (silver_transaction_checks) and could
deadlock on its rewrite rule (dbt-labs/dbt-core#9246). This counts the runs that fail, and
those that fail with `deadlock detected`; seeds, models and tests all run, as in the weekly job.
"""

from __future__ import annotations

from pathlib import Path

from bench.cluster import throwaway_server
from bench.context import BenchContext
from bench.dataset import dataset
from bench.pipeline import build_all, ingest_dataset
from bench.proc import run_measured
from bench.results import BenchResult, Side
from bench.stats import series

NAME = "full_refresh"
TITLE = "Silver full refresh, 10 runs in a row (deadlocks)"
TARGET = 0.0  # no ratio: the target is no failed run
RUNS = 10
COMMAND = ["run", "--layer", "silver", "--full-refresh", "true"]


def _run_output(log: Path, offset: int) -> str:
    return log.read_bytes()[offset:].decode(errors="replace")


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME,
        title=TITLE,
        scale=ctx.scale,
        target=TARGET,
        target_text=f"0 failed of {RUNS}",
    )
    run_dir = ctx.fresh_run_dir(NAME)
    log = run_dir / "full-refresh.log"
    seconds: list[float] = []
    exit_codes: list[int] = []
    deadlocks = 0
    with throwaway_server(ctx.workdir, NAME) as server:
        ds = dataset(ctx, ctx.scale)
        dbname = f"refresh_{ctx.scale}"
        env = ingest_dataset(ctx, server, ds, dbname, run_dir)
        build_all(ctx, env, run_dir)
        for _ in range(RUNS):
            offset = log.stat().st_size if log.exists() else 0
            measured = run_measured([ctx.workbench, *COMMAND], env=env, log=log, check=False)
            seconds.append(measured.seconds)
            exit_codes.append(measured.exit_code)
            deadlocks += "deadlock detected" in _run_output(log, offset)
        server.drop_database(dbname)
    failed = sum(1 for code in exit_codes if code != 0)
    result.candidate = Side("full refresh", f"workbench {' '.join(COMMAND)}", series(seconds))
    result.extra = {
        "runs": RUNS,
        "exit_codes": exit_codes,
        "failed_runs": failed,
        "deadlocked_runs": deadlocks,
        "headline_deadlocks": f"{deadlocks} of {RUNS} runs deadlocked, {failed} failed "
        f"(exit codes {exit_codes}) at {ctx.scale:,} transactions",
    }
    result.notes.append("No baseline: the target is that every run succeeds.")
    return result
