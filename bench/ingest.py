"""Ingest: `workbench ingest` of JSON Lines vs `psql \\copy` of the same files into bare jsonb.

The floor is the least work PostgreSQL can do to land the same lines as jsonb. Both sides load
identical files (the dataset's parseable lines) into a brand-new database each repeat, and the
runs alternate so drift on a shared machine hits both. Peak RSS of the ingest process is taken
at two file sizes: flat memory means streaming.
"""

from __future__ import annotations

from pathlib import Path

from bench.cluster import BenchServer, throwaway_server
from bench.context import BenchContext, psql_argv
from bench.dataset import clean_copy, dataset
from bench.proc import Measured, run_measured
from bench.results import BenchResult, Side
from bench.stats import series

NAME = "ingest"
TITLE = "Ingest (workbench ingest vs psql \\copy jsonb)"
TARGET = 1.4
MEMORY_GROWTH_TARGET = 1.25  # "flat": peak RSS at the big size within 25 % of the small size

_COPY_OPTIONS = "with (format csv, quote e'\\x01', delimiter e'\\x02')"


def _workbench_ingest(
    ctx: BenchContext, server: BenchServer, files: list[Path], dbname: str, run_dir: Path
) -> Measured:
    server.create_database(dbname)
    env = ctx.child_env(server.env(dbname), run_dir)
    return run_measured(
        [ctx.workbench, "ingest", *map(str, files), "--entity", "transactions"],
        env=env,
        log=run_dir / "ingest.log",
    )


def _psql_copy(
    ctx: BenchContext, server: BenchServer, files: list[Path], dbname: str, run_dir: Path
) -> Measured:
    server.create_database(dbname)
    with server.connect(dbname) as conn:
        conn.execute("create table bare (payload jsonb not null)")
    pg_env = server.env(dbname)
    commands: list[str] = []
    for path in files:
        commands += ["-c", f"\\copy bare (payload) from '{path}' {_COPY_OPTIONS}"]
    return run_measured(
        psql_argv(pg_env, *commands), env=ctx.child_env(pg_env, run_dir), log=run_dir / "psql.log"
    )


def _memory_probe(
    ctx: BenchContext, server: BenchServer, rows: int, run_dir: Path
) -> tuple[float, int]:
    """Peak RSS (MB) of one `workbench ingest` of a dataset with `rows` transactions."""
    ds = dataset(ctx, rows)
    files, lines = clean_copy(ds, ctx.workdir / "data" / f"clean-{rows}")
    measured = _workbench_ingest(ctx, server, files, f"mem_{rows}", run_dir)
    landed = int(server.scalar(f"mem_{rows}", "select count(*) from raw.transactions"))
    if landed != lines:
        raise RuntimeError(f"ingest of {lines} clean lines landed {landed} rows")
    server.drop_database(f"mem_{rows}")
    return measured.peak_rss_mb, lines


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME,
        title=TITLE,
        scale=ctx.scale,
        target=TARGET,
        target_text=f"<= {TARGET}x",
    )
    run_dir = ctx.fresh_run_dir(NAME)
    ds = dataset(ctx, ctx.scale)
    files, lines = clean_copy(ds, ctx.workdir / "data" / f"clean-{ctx.scale}")
    candidate: list[float] = []
    baseline: list[float] = []
    rss: list[float] = []
    cpu: list[float] = []
    with throwaway_server(ctx.workdir, NAME) as server:
        for i in range(ctx.repeats):
            done = _workbench_ingest(ctx, server, files, f"cand_{i}", run_dir)
            landed = int(server.scalar(f"cand_{i}", "select count(*) from raw.transactions"))
            if landed != lines:
                raise RuntimeError(f"workbench ingest landed {landed} of {lines} lines")
            server.drop_database(f"cand_{i}")
            candidate.append(done.seconds)
            rss.append(done.peak_rss_mb)
            cpu.append(done.cpu_seconds)
            floor = _psql_copy(ctx, server, files, f"base_{i}", run_dir)
            copied = int(server.scalar(f"base_{i}", "select count(*) from bare"))
            if copied != lines:
                raise RuntimeError(f"psql \\copy landed {copied} of {lines} lines")
            server.drop_database(f"base_{i}")
            baseline.append(floor.seconds)
        small = ctx.big_scale if ctx.big_scale else max(1000, ctx.scale // 10)
        small_rss, small_lines = _memory_probe(ctx, server, small, run_dir)
    big_rss = max(rss)
    lo, hi = sorted([(small_lines, small_rss), (lines, big_rss)])
    growth = hi[1] / lo[1]
    result.candidate = Side(
        "workbench ingest",
        f"workbench ingest <{len(files)} files> --entity transactions",
        series(candidate),
    )
    result.baseline = Side(
        "psql \\copy",
        f'psql -c "\\copy bare (payload) from FILE {_COPY_OPTIONS}"',
        series(baseline),
    )
    result.extra = {
        "lines_per_run": lines,
        "files": len(files),
        "candidate_rows_per_second_median": round(lines / result.candidate.seconds.median),
        "baseline_rows_per_second_median": round(lines / result.baseline.seconds.median),
        "candidate_process_cpu_seconds": series(cpu).as_dict(),
        "peak_rss_mb": {str(lo[0]): round(lo[1], 1), str(hi[0]): round(hi[1], 1)},
        "peak_rss_growth": round(growth, 3),
        "peak_rss_growth_target": MEMORY_GROWTH_TARGET,
        "peak_rss_flat": growth <= MEMORY_GROWTH_TARGET,
        "headline_peak_rss": (
            f"{lo[1]:.0f} MB at {lo[0]:,} lines vs {hi[1]:.0f} MB at {hi[0]:,} lines "
            f"(x{growth:.2f}, target <= x{MEMORY_GROWTH_TARGET})"
        ),
    }
    result.notes.append(
        "Both sides load the dataset's parseable lines (the generator's deliberately "
        "unparseable lines would abort a bare jsonb COPY); each repeat uses a new database, "
        "so every file is new to the ingest ledger: the path of a first landing (binary COPY "
        "straight into raw). A re-landing of identical bytes is recognised by the ledger and "
        "reads only the file."
    )
    return result
