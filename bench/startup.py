"""Start-up: process start → the first model's SQL reaching PostgreSQL, pre-parsed vs cold parse.

"First model SQL" is read from the server's own statement log: the first statement carrying
dbt's query comment with a `model.` node id. That works whatever the runner logs, and the clock
is the same machine's. Pre-parsed = the image's way (`python -m workbench.preparsed DIR` at
build time, `DBT_PARTIAL_PARSE_FILE_PATH` at run time); cold = an empty target directory.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import image_startup
from bench.cluster import BenchServer, throwaway_server
from bench.context import BenchContext
from bench.dataset import dataset
from bench.dbt_artifacts import first_log_event_at
from bench.proc import run_measured, venv_bin
from bench.results import BenchResult, Side
from bench.stats import series

NAME = "startup"
TITLE = "Start-up to first model SQL (pre-parsed vs cold parse)"
TARGET = 0.30
STARTUP_ROWS = 2_000  # the data only has to exist; start-up does not depend on it
LAYER = "bronze"

_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) UTC \[\d+\] LOG:  statement: (.*)")
_MODEL_COMMENT = re.compile(r'"node_id": "model\.')


def first_model_statement_at(log_file: Path, offset: int) -> float | None:
    """Epoch seconds of the first model statement logged after byte `offset`, if any."""
    with log_file.open("rb") as handle:
        handle.seek(offset)
        for raw in handle:
            match = _STAMP.match(raw.decode("utf-8", "replace"))
            if match and _MODEL_COMMENT.search(match.group(2)):
                stamp = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f")
                return stamp.replace(tzinfo=UTC).timestamp()
    return None


def _prepare_database(ctx: BenchContext, server: BenchServer, run_dir: Path) -> dict[str, str]:
    server.create_database(NAME)
    pg_env = server.env(NAME)
    ds = dataset(ctx, STARTUP_ROWS)
    env = ctx.child_env(pg_env, run_dir / "setup")
    run_measured(
        [ctx.workbench, "ingest", str(ds.products_file), "--entity", "products"],
        env=env,
        log=run_dir / "setup.log",
    )
    run_measured(
        [ctx.workbench, "ingest", *map(str, ds.transaction_files), "--entity", "transactions"],
        env=env,
        log=run_dir / "setup.log",
    )
    return pg_env


def _bake(ctx: BenchContext, pg_env: dict[str, str], run_dir: Path) -> Path:
    baked = run_dir / "baked"
    shutil.rmtree(baked, ignore_errors=True)
    run_measured(
        [venv_bin("python"), "-m", "workbench.preparsed", str(baked)],
        env=ctx.child_env(pg_env, run_dir / "bake"),
        log=run_dir / "bake.log",
    )
    return baked / "partial_parse.msgpack"


def _time_to_first_model(
    ctx: BenchContext,
    server: BenchServer,
    pg_env: dict[str, str],
    run_dir: Path,
    partial_parse: Path | None,
) -> tuple[float, float]:
    """Seconds from process start to the first model SQL, and to dbt's first log event."""
    shutil.rmtree(run_dir, ignore_errors=True)
    env = ctx.child_env(pg_env, run_dir)
    env.pop("DBT_PARTIAL_PARSE_FILE_PATH", None)
    if partial_parse is not None:
        env["DBT_PARTIAL_PARSE_FILE_PATH"] = str(partial_parse)
    offset = server.log_file.stat().st_size
    done = run_measured(
        [ctx.workbench, "run", "--layer", LAYER],
        env=env,
        log=run_dir.parent / f"{run_dir.name}.log",
    )
    first = first_model_statement_at(server.log_file, offset)
    if first is None:
        raise RuntimeError(
            f"no model statement in the server log after `workbench run`; "
            f"see {done.log} and {server.log_file}"
        )
    dbt_started = first_log_event_at(run_dir / "logs" / "dbt.log")
    if dbt_started is None:
        raise RuntimeError(f"no dbt log events in {run_dir / 'logs'}")
    return first - done.started_at, dbt_started - done.started_at


def _image_start_to_first_model(
    ctx: BenchContext, server: BenchServer, pg_env: dict[str, str], run_dir: Path
) -> dict[str, object]:
    """The same figure for the real image (bench/image_startup.py), beside the venv's."""
    try:
        engine, ref, build_seconds = image_startup.build_image(pg_env)
    except RuntimeError as exc:
        return {"not_measured_reason": str(exc)}

    def first_model_after() -> Callable[[], float | None]:
        offset = server.log_file.stat().st_size
        return lambda: first_model_statement_at(server.log_file, offset)

    seconds = [
        image_startup.time_pod_start(engine, pg_env, LAYER, run_dir / f"pod-{i}", first_model_after)
        for i in range(ctx.repeats + 1)
    ][1:]  # the first run warms the page cache, as for the venv runs
    return {
        "image": ref,
        "image_build_seconds": round(build_seconds, 1),
        "container_start_to_first_model_sql_seconds": series(seconds).as_dict(),
    }


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME, title=TITLE, scale=STARTUP_ROWS, target=TARGET, target_text=f"<= {TARGET}x"
    )
    run_dir = ctx.fresh_run_dir(NAME)
    cold: list[float] = []
    warm: list[float] = []
    imports: list[float] = []
    with throwaway_server(ctx.workdir, NAME) as server:
        pg_env = _prepare_database(ctx, server, run_dir)
        baked = _bake(ctx, pg_env, run_dir)
        server.log_every_statement()
        # One untimed run of each kind first: file-system caches and .pyc files warm for both.
        for i in range(ctx.repeats + 1):
            c, _ = _time_to_first_model(ctx, server, pg_env, run_dir / f"cold-{i}", None)
            w, w_import = _time_to_first_model(
                ctx, server, pg_env, run_dir / f"preparsed-{i}", baked
            )
            if i > 0:
                cold.append(c)
                warm.append(w)
                imports.append(w_import)
        in_image = _image_start_to_first_model(ctx, server, pg_env, run_dir / "image")
    result.candidate = Side(
        "pre-parsed",
        f"DBT_PARTIAL_PARSE_FILE_PATH=<baked> workbench run --layer {LAYER}",
        series(warm),
    )
    result.baseline = Side(
        "cold parse", f"workbench run --layer {LAYER} (empty target dir)", series(cold)
    )
    floor = series(imports)
    result.extra = {
        "process_start_to_dbt_first_log_event_seconds": floor.as_dict(),
        "headline_fixed_floor": (
            f"{floor.median:.2f} s of the pre-parsed {result.candidate.seconds.median:.2f} s pass "
            "before dbt logs anything (interpreter start, imports: paid by both sides)"
        ),
        "parse_saved_seconds_median": round(
            result.baseline.seconds.median - result.candidate.seconds.median, 3
        ),
        "real_image": in_image,
    }
    image_seconds = in_image.get("container_start_to_first_model_sql_seconds")
    if isinstance(image_seconds, dict):
        result.extra["headline_real_image"] = (
            f"container start to first model SQL {image_seconds['median']:.2f} s "
            f"({image_seconds['min']:.2f}-{image_seconds['max']:.2f}) in the image, "
            f"{result.candidate.seconds.median:.2f} s from the venv (both pre-parsed)"
        )
    result.notes.append(
        "Baked with `python -m workbench.preparsed DIR` under the same connection settings as "
        "the run: dbt reuses a saved parse only when host/port/user/database match the build "
        "(see workbench/preparsed.py); with different settings the pod parses cold."
    )
    return result
