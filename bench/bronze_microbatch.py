"""A bronze micro-batch, as the serve follower runs it, costs what its batch costs (issue 17).

A throwaway PostgreSQL with two databases whose raw.transactions hold `scale` and `scale / 10`
records landed over the last 30 days (bench.raw_landing: shaped like sale lines, generated in
SQL); the daily bronze job builds bronze once in each. Then, `repeats` times, alternating:
1,000 new records land in each and the follower's own command runs (workbench.serve.follower:
`workbench run --layer bronze --lock-timeout 0` with WORKBENCH_TEST_SCOPE=batch). Candidate:
the run with `scale` in bronze; baseline: the same batch with a tenth of it. The ratio is what
the table's size adds (target <= 1.25x: the batch, not the table, sets the cost). After the
repeats, batches of 10,000 and 100,000 show what the batch's size adds. Wall-clock seconds of
the child process: lock, dbt start-up, models, tests, history.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.cluster import BenchServer, throwaway_server
from bench.context import BenchContext
from bench.proc import run_measured
from bench.raw_landing import build_bronze_daily, fill_raw, land_new
from bench.results import BenchResult, Side
from bench.stats import series
from workbench.serve.follower import FOLLOWER_ENV, bronze_command

NAME = "bronze_microbatch"
TITLE = "Bronze micro-batch of 1,000 (serve follower's run): full-size table vs a tenth"
TARGET = 1.25
BATCH = 1_000
GROWTH = (10_000, 100_000)
ABSOLUTE_TARGET_SECONDS = 5.0


class _Bronze:
    """One database: raw filled, bronze built by the daily job; follower runs measured."""

    def __init__(
        self, ctx: BenchContext, server: BenchServer, dbname: str, rows: int, run_dir: Path
    ) -> None:
        self.server = server
        self.dbname = dbname
        self.dir = run_dir / dbname
        self.env = ctx.child_env(server.env(dbname), self.dir)
        self.log = self.dir / "runs.log"
        server.create_database(dbname)
        fill_raw(server, dbname, rows)
        build_bronze_daily(self.env, self.log)

    def follower_run(self, tag: str, count: int) -> tuple[float, float]:
        """(wall seconds, dbt's own seconds in tests) of the follower's run after `count` new."""
        land_new(self.server, self.dbname, tag, count)
        seconds = run_measured(bronze_command(), env={**self.env, **FOLLOWER_ENV}, log=self.log)
        results = json.loads((self.dir / "target" / "run_results.json").read_text())["results"]
        if not any(r["unique_id"].startswith("model.") for r in results):
            raise RuntimeError(f"the follower built nothing after {count} new; see {self.log}")
        tests = sum(r["execution_time"] for r in results if r["unique_id"].startswith("test."))
        return seconds.seconds, tests

    def bronze_rows(self) -> int:
        count = "select count(*) from bronze.bronze_transactions"
        return int(self.server.scalar(self.dbname, count))


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME, title=TITLE, scale=ctx.scale, target=TARGET, target_text=f"<= {TARGET}x"
    )
    run_dir = ctx.fresh_run_dir(NAME)
    small_rows = max(ctx.scale // 10, BATCH)
    candidate: list[float] = []
    baseline: list[float] = []
    candidate_tests: list[float] = []
    growth: dict[str, float] = {}
    with throwaway_server(ctx.workdir, NAME) as server:
        big = _Bronze(ctx, server, "big", ctx.scale, run_dir)
        small = _Bronze(ctx, server, "small", small_rows, run_dir)
        for repeat in range(ctx.repeats):
            seconds, tests = big.follower_run(f"new{repeat}", BATCH)
            candidate.append(seconds)
            candidate_tests.append(tests)
            baseline.append(small.follower_run(f"new{repeat}", BATCH)[0])
        for count in GROWTH:
            growth[f"{count:,} new"] = round(big.follower_run(f"grow{count}", count)[0], 2)
        rows_at_end = big.bronze_rows()
    command = "workbench run --layer bronze --lock-timeout 0, WORKBENCH_TEST_SCOPE=batch"
    result.candidate = Side(f"{BATCH:,} new, {ctx.scale:,} in bronze", command, series(candidate))
    result.baseline = Side(f"{BATCH:,} new, {small_rows:,} in bronze", command, series(baseline))
    median = result.candidate.seconds.median
    result.extra = {
        f"headline_micro_batch_of_{BATCH}_with_{ctx.scale}_in_bronze_seconds": round(median, 2),
        "absolute_target_seconds": ABSOLUTE_TARGET_SECONDS,
        "meets_absolute_target": median <= ABSOLUTE_TARGET_SECONDS,
        "candidate_dbt_test_seconds": series(candidate_tests).as_dict(),
        f"batch_growth_with_{ctx.scale}_in_bronze_seconds": growth,
        "bronze_rows_at_end": rows_at_end,
    }
    result.notes.append(
        "Each run is the serve follower's own command in a child process (a new Python, dbt's "
        "start-up, 2 models and their batch-scoped tests, the run's history); the records are "
        "landed in SQL, so only the bronze run is timed."
    )
    return result
