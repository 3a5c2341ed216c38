"""Untimed set-up steps shared by the benchmarks: land a dataset, build every layer once."""

from __future__ import annotations

from pathlib import Path

from bench.cluster import BenchServer
from bench.context import NO_TESTS, BenchContext
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


def build_all(ctx: BenchContext, env: dict[str, str], run_dir: Path) -> None:
    """Every seed and model built once (`workbench run --layer all`, tests left out)."""
    run_measured(
        [ctx.workbench, "run", "--layer", "all", "--exclude", NO_TESTS],
        env=env,
        log=run_dir / "setup.log",
    )
