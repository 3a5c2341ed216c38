"""`python -m bench`: measure each ratio against its baseline, write bench/results/*.json.

python -m bench --scale 1000000 --big-scale 0 --repeats 3 --only ingest
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from types import ModuleType

from bench import (
    bronze_microbatch,
    embed,
    embed_platinum,
    full_refresh,
    hourly,
    incremental,
    ingest,
    overhead,
    serve,
    serve_realtime,
    startup,
    transform,
)
from bench.context import REPO_ROOT, BenchContext
from bench.machine import dependencies_precompiled, machine_info
from bench.results import BenchResult, summary_markdown, write_result
from tests.pgcluster import find_bindir

BENCHES: dict[str, ModuleType] = {
    module.NAME: module
    for module in (
        ingest,
        transform,
        incremental,
        full_refresh,
        hourly,
        startup,
        overhead,
        embed,
        embed_platinum,
        serve,
        bronze_microbatch,
        serve_realtime,
    )
}


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scale",
        type=_positive,
        default=1_000_000,
        help="transactions in the main dataset (default 1000000)",
    )
    parser.add_argument(
        "--big-scale",
        type=_positive,
        default=10_000_000,
        help="second, larger size for the memory and incremental scaling "
        "checks; 0 skips it (default 10000000)",
    )
    parser.add_argument(
        "--repeats",
        type=_positive,
        default=3,
        help="runs per side; min/median/max are reported (default 3)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(BENCHES),
        default=[],
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="data and throwaway servers (default: a new temp dir, removed after)",
    )
    parser.add_argument("--results-dir", type=Path, default=REPO_ROOT / "bench" / "results")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.repeats < 3:
        print("note: fewer than 3 repeats; min/median/max are less meaningful", file=sys.stderr)
    if shutil.which("psql") is None:
        print("psql not found: apt-get install postgresql-client", file=sys.stderr)
        return 2
    find_bindir()  # fails with install instructions when no PostgreSQL server binaries exist
    if not dependencies_precompiled():
        print(
            "note: the virtualenv has no bytecode for dbt (the image has): every child process "
            "compiles it at import and start-up-bound numbers grow by about a second; "
            "run `make setup` (uv sync --frozen --all-extras --compile-bytecode) first",
            file=sys.stderr,
        )
    own_workdir = args.workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="workbench-bench-")) if own_workdir else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o755)
    ctx = BenchContext(
        scale=args.scale,
        big_scale=args.big_scale,
        repeats=max(1, args.repeats),
        workdir=workdir.resolve(),
        results_dir=args.results_dir,
    )
    names = args.only or list(BENCHES)
    failures = 0
    try:
        for name in names:
            module = BENCHES[name]
            print(f"== {name}: scale {ctx.scale:,}, {ctx.repeats} repeats", flush=True)
            machine = machine_info(REPO_ROOT, _postgres_version())
            try:
                result = module.run(ctx)
            except Exception as exc:
                failures += 1
                traceback.print_exc()
                result = BenchResult(
                    name=name,
                    title=module.TITLE,
                    scale=ctx.scale,
                    target=module.TARGET,
                    target_text=f"<= {module.TARGET}x",
                    not_measured_reason=f"{type(exc).__name__}: {exc}",
                )
            path = write_result(result, ctx.results_dir, machine, ctx.repeats)
            ratio = result.ratio
            print(f"   -> {path} ratio={'n/a' if ratio is None else f'{ratio:.3f}'}", flush=True)
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    summary = summary_markdown(ctx.results_dir)
    (ctx.results_dir / "summary.md").write_text(summary)
    print(summary)
    return 1 if failures else 0


def _postgres_version() -> str | None:
    try:
        import subprocess

        out = subprocess.run(
            [str(find_bindir() / "postgres"), "--version"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, RuntimeError, subprocess.CalledProcessError):
        return None
    found = re.search(r"\d+(\.\d+)+", out)
    return found.group(0) if found else out.strip()


if __name__ == "__main__":
    sys.exit(main())
