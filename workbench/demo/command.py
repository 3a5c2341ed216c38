"""`workbench demo`: sample data → ingest → all layers → docs → summary, on one machine.

Uses the server named by POSTGRES_* when POSTGRES_HOST is set (and leaves the tables there),
refusing one whose tables already hold rows; otherwise starts an embedded PostgreSQL under the
work directory and recreates its demo database empty. Console lines by default, also when piped
(the demo is the laptop path); ``--log-format json`` gives the pod's JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import psycopg
import structlog

from workbench import cli
from workbench.config import PostgresSettings, dbt_project_dir, resolve_target_path
from workbench.contract import ExitCode
from workbench.db import connect
from workbench.demo import summary as summary_mod
from workbench.demo.existing import refusal_message, relations_with_rows
from workbench.demo.scoring import read_ground_truth, score

log = structlog.get_logger("workbench.demo")
DEFAULT_LOG_FORMAT = "console"
# The search the demo prints once platinum's vectors exist.
SAMPLE_QUERY = "instant noodles"
SAMPLE_TOP = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workdir",
        default=".demo",
        help="where the sample data, the embedded database and summary.json go (default .demo)",
    )
    parser.add_argument(
        "--transactions",
        type=int,
        default=120_000,
        help="how many sample transactions to generate (default 120000)",
    )
    parser.add_argument(
        "--bad-share",
        default="0.02",
        help="share of bad records silver must reject, 0..0.5 (default 0.02)",
    )
    parser.add_argument(
        "--seed", default="42", help="random seed: the same seed gives the same data (default 42)"
    )
    parser.add_argument("--skip-docs", action="store_true", help="do not generate dbt docs")


def _steps(args: argparse.Namespace, data_dir: Path) -> list[tuple[str, list[str]]]:
    steps = [
        (
            "generate sample data",
            [
                "sample-data",
                "--out",
                str(data_dir),
                "--transactions",
                str(args.transactions),
                "--bad-share",
                str(args.bad_share),
                "--seed",
                str(args.seed),
            ],
        ),
        ("ingest products", ["ingest", str(data_dir / "products.jsonl"), "--entity", "products"]),
        (
            "ingest transactions",
            ["ingest", str(data_dir / "transactions-*.jsonl"), "--entity", "transactions"],
        ),
        ("run all layers", ["run", "--layer", "all"]),
    ]
    if not args.skip_docs:
        steps.append(("generate docs", ["docs"]))
    return steps


def execute(args: argparse.Namespace) -> int:
    started = time.monotonic()
    workdir = Path(args.workdir).resolve()
    if PostgresSettings.configured():
        settings = PostgresSettings.from_env()
        log.info("demo.database", mode="configured", target=settings.describe())
        try:
            with connect(settings) as conn:
                occupied = relations_with_rows(conn)
        except psycopg.Error as exc:
            log.error("demo.database_unreachable", target=settings.describe(), error=str(exc))
            return int(ExitCode.RUNTIME_ERROR)
        if occupied:
            log.error("demo.database_not_empty", error=refusal_message(settings.dbname, occupied))
            return int(ExitCode.CONFIGURATION_ERROR)
        return _pipeline(args, settings, workdir, started)
    from workbench.demo.embedded import start_embedded  # pgserver: only when it is needed

    settings, server = start_embedded(workdir)
    log.info("demo.database", mode="embedded", target=settings.describe())
    try:
        code = _pipeline(args, settings, workdir, started)
    finally:
        server.cleanup()
    print(f"Embedded PostgreSQL stopped; its data stays in {workdir / 'pgdata'}")
    return code


def _sample_search(settings: PostgresSettings, log_format: str) -> None:
    """One search on the vectors the platinum build left, as `workbench search` prints it;
    a server without pgvector has none (the run said so) and gets no search."""
    with connect(settings) as conn:
        stored = conn.execute("select to_regclass('platinum_vectors.product_vectors')").fetchone()
    if stored is None or stored[0] is None:
        return
    print(f"workbench search {SAMPLE_QUERY!r} --top {SAMPLE_TOP}", flush=True)
    if cli.main(["search", SAMPLE_QUERY, "--top", str(SAMPLE_TOP), "--log-format", log_format]):
        log.warning("demo.sample_search_failed", query=SAMPLE_QUERY)


def _pipeline(
    args: argparse.Namespace, settings: PostgresSettings, workdir: Path, started: float
) -> int:
    data_dir = workdir / "data"
    os.environ.update(settings.as_env())
    target = resolve_target_path(None, dbt_project_dir(), os.environ)
    run_exit = 0
    tests: dict[str, int] = {}
    for title, argv in _steps(args, data_dir):
        log.info("demo.step", step=title)
        code = cli.main([*argv, "--log-format", args.log_format])
        if argv[0] == "run":
            run_exit = code
            tests = summary_mod.test_results(target / "run_results.json")
        if code != 0 and not (argv[0] == "run" and code == 1):
            log.error("demo.failed", step=title, exit_code=code)
            return code
        if argv[0] == "run":
            _sample_search(settings, args.log_format)

    with connect(settings) as conn:
        result = summary_mod.DemoSummary(
            rows=summary_mod.count_rows(conn),
            rejected_by_reason=summary_mod.rejected_by_reason(conn),
            tests=tests,
            anomalies=score(
                read_ground_truth(data_dir / "anomalies.csv"), summary_mod.flagged_anomalies(conn)
            ),
            docs_path="" if args.skip_docs else str(target / "static_index.html"),
            elapsed_seconds=time.monotonic() - started,
        )
    (workdir / "summary.json").write_text(json.dumps(result.as_dict(), indent=2) + "\n")
    print(summary_mod.render(result), flush=True)
    return run_exit
