"""Untimed set-up steps shared by the benchmarks: land a dataset, build every layer once."""

from __future__ import annotations

from pathlib import Path

from bench.cluster import BenchServer
from bench.context import BenchContext
from bench.dataset import Dataset
from bench.proc import run_measured


def ingest_dataset(
    ctx: BenchContext, server: BenchServer, ds: Dataset, dbname: str, run_dir: Path
) -> dict[str, str]:
    """A new database `dbname` with the dataset's products and transactions in raw landing."""
    server.create_database(dbname)
    env = ctx.child_env(server.env(dbname), run_dir)
    log = run_dir / "setup.log"
    run_measured(
        [ctx.workbench, "ingest", str(ds.products_file), "--entity", "products"], env=env, log=log
    )
    run_measured(
        [ctx.workbench, "ingest", *map(str, ds.transaction_files), "--entity", "transactions"],
        env=env,
        log=log,
    )
    return env


def build_all(ctx: BenchContext, env: dict[str, str], run_dir: Path) -> int:
    """`workbench run --layer all` once; its exit code (1 = a data test failed, still built)."""
    done = run_measured(
        [ctx.workbench, "run", "--layer", "all"], env=env, log=run_dir / "setup.log", check=False
    )
    if done.exit_code == 2:
        raise RuntimeError(f"the set-up build failed with a runtime error; see {done.log}")
    return done.exit_code
