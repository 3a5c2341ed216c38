"""Transform: `workbench run --layer all` (models only) vs dbt's own SQL for them through psql.

Setup (untimed): a template database with the dataset ingested and the seeds loaded. Each
repeat recreates the working database from that template, so both sides start from exactly the
same state. The floor's script is recorded once from a debug-logged run (see bench/dbt_sql.py)
and replayed by one psql session: the same statements, no parsing, no introspection, one
connection, no runner.
"""

from __future__ import annotations

from pathlib import Path

from bench.cluster import BenchServer, throwaway_server
from bench.context import NO_TESTS, BenchContext, psql_argv
from bench.dataset import Dataset, dataset
from bench.dbt_sql import recorded_model_statements, write_replay_script
from bench.pipeline import ingest_dataset
from bench.proc import run_measured
from bench.results import BenchResult, Side
from bench.stats import series

NAME = "transform"
TITLE = "Transform, all models (workbench run vs psql replay of dbt SQL)"
TARGET = 1.3
MODELS_ONLY = "resource_type:model"
TEMPLATE = "transform_template"
WORK_DB = "transform"  # one name for both sides: dbt's SQL names the database explicitly


def prepare_template(
    ctx: BenchContext, server: BenchServer, ds: Dataset, template: str, run_dir: Path
) -> None:
    """Ingested raw data and loaded seeds; no model built yet."""
    env = ingest_dataset(ctx, server, ds, template, run_dir / "setup")
    log = run_dir / "setup.log"
    run_measured(
        [
            ctx.dbt,
            "seed",
            "--project-dir",
            str(ctx.project_dir),
            "--profiles-dir",
            str(ctx.project_dir),
        ],
        env=env,
        log=log,
    )
    with server.connect(template) as conn:
        conn.execute("vacuum analyze")


def _workbench_models(
    ctx: BenchContext, server: BenchServer, run_dir: Path, debug_log: bool = False
) -> float:
    server.create_database(WORK_DB, template=TEMPLATE)
    env = ctx.child_env(server.env(WORK_DB), run_dir)
    if debug_log:
        env["DBT_LOG_LEVEL_FILE"] = "debug"
        env["DBT_LOG_FORMAT_FILE"] = "json"
    done = run_measured(
        [ctx.workbench, "run", "--layer", "all", "--select", MODELS_ONLY, "--exclude", NO_TESTS],
        env=env,
        log=run_dir.parent / f"{run_dir.name}.log",
    )
    return done.seconds


def _psql_replay(ctx: BenchContext, server: BenchServer, script: Path, run_dir: Path) -> float:
    server.create_database(WORK_DB, template=TEMPLATE)
    pg_env = server.env(WORK_DB)
    done = run_measured(
        psql_argv(pg_env, "-f", str(script)),
        env=ctx.child_env(pg_env, run_dir),
        log=run_dir.parent / "psql.log",
    )
    return done.seconds


def _model_counts(server: BenchServer) -> dict[str, int]:
    with server.connect(WORK_DB) as conn:
        rows = conn.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_schema in ('bronze', 'silver', 'gold', 'platinum')"
            " and table_name not like '%%dbt%%' order by 1"
        ).fetchall()
        return {
            name: int(conn.execute(f"select count(*) from {name}").fetchone()[0])  # type: ignore[index]
            for (name,) in rows
        }


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME, title=TITLE, scale=ctx.scale, target=TARGET, target_text=f"<= {TARGET}x"
    )
    run_dir = ctx.fresh_run_dir(NAME)
    ds = dataset(ctx, ctx.scale)
    candidate: list[float] = []
    baseline: list[float] = []
    with throwaway_server(ctx.workdir, NAME) as server:
        prepare_template(ctx, server, ds, TEMPLATE, run_dir)
        recording = run_dir / "recording"
        _workbench_models(ctx, server, recording, debug_log=True)
        built_by_dbt = _model_counts(server)
        statements = recorded_model_statements(recording / "logs" / "dbt.log")
        if not statements:
            raise RuntimeError(f"no model SQL in {recording / 'logs' / 'dbt.log'}")
        script = write_replay_script(statements, run_dir / "replay.sql")
        for i in range(ctx.repeats):
            candidate.append(_workbench_models(ctx, server, run_dir / f"workbench-{i}"))
            baseline.append(_psql_replay(ctx, server, script, run_dir / f"psql-{i}"))
        built_by_psql = _model_counts(server)
    if built_by_psql != built_by_dbt:
        raise RuntimeError(f"the replay built different tables: {built_by_psql} vs {built_by_dbt}")
    result.candidate = Side(
        "workbench run",
        f"workbench run --layer all --select {MODELS_ONLY} --exclude '{NO_TESTS}'",
        series(candidate),
    )
    result.baseline = Side(
        "psql replay", "psql -f replay.sql (dbt's model SQL, in dbt's order)", series(baseline)
    )
    result.extra = {"replayed_statements": len(statements), "rows_per_relation": built_by_dbt}
    result.notes.append(
        "Seeds are loaded in the template (both sides start from raw data + seeds). The floor "
        "runs the statements sequentially in one session; dbt may use several threads."
    )
    return result
