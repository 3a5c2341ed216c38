"""Runner overhead: `workbench run --layer silver` vs bare `dbt build --selector silver`.

Same database, same selection, same dbt; each side keeps its own target directory (warmed by
one untimed run, so both reuse dbt's partial parse). The hourly silver run is the one that runs
most often, so its overhead is the one that matters. Runs alternate between the two sides.
"""

from __future__ import annotations

from bench.cluster import throwaway_server
from bench.context import BenchContext
from bench.dataset import dataset
from bench.pipeline import build_all, ingest_dataset
from bench.proc import run_measured
from bench.results import BenchResult, Side
from bench.stats import series

NAME = "overhead"
TITLE = "Runner overhead (workbench run vs bare dbt build)"
TARGET = 1.05
LAYER = "silver"


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME, title=TITLE, scale=ctx.scale, target=TARGET, target_text=f"<= {TARGET}x"
    )
    run_dir = ctx.fresh_run_dir(NAME)
    ds = dataset(ctx, ctx.scale)
    workbench: list[float] = []
    bare: list[float] = []
    with throwaway_server(ctx.workdir, NAME) as server:
        build_all(ctx, ingest_dataset(ctx, server, ds, NAME, run_dir / "setup"), run_dir)
        wb_env = ctx.child_env(server.env(NAME), run_dir / "workbench")
        dbt_env = ctx.child_env(server.env(NAME), run_dir / "dbt")
        wb_argv = [ctx.workbench, "run", "--layer", LAYER]
        dbt_argv = [
            ctx.dbt,
            "build",
            "--selector",
            LAYER,
            "--project-dir",
            str(ctx.project_dir),
            "--profiles-dir",
            str(ctx.project_dir),
        ]
        for i in range(ctx.repeats + 1):
            w = run_measured(wb_argv, env=wb_env, log=run_dir / "workbench.log", check=False)
            d = run_measured(dbt_argv, env=dbt_env, log=run_dir / "dbt.log", check=False)
            if w.exit_code != d.exit_code:
                raise RuntimeError(f"exit codes differ: workbench {w.exit_code}, dbt {d.exit_code}")
            if i > 0:  # the first pair warms caches and partial parse
                workbench.append(w.seconds)
                bare.append(d.seconds)
    result.candidate = Side(
        "workbench run", " ".join(["workbench", *wb_argv[1:]]), series(workbench)
    )
    result.baseline = Side("bare dbt build", f"dbt build --selector {LAYER}", series(bare))
    result.extra = {
        "absolute_overhead_seconds_median": round(
            result.candidate.seconds.median - result.baseline.seconds.median, 3
        )
    }
    return result
