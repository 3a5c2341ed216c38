"""`python -m bench.bronze_microbatch`: what one bronze micro-batch costs (issue 17).

Not one of `make bench`'s ratios: a before/after measurement, printed as a Markdown table.
A throwaway PostgreSQL; raw.transactions holds `--rows` records landed over the last 30 days
(payloads shaped like a sale line, generated in SQL: bronze never parses them), vacuumed and
analyzed as autovacuum would have; the daily job builds bronze once. Then, `--repeats` times,
alternating:
- `workbench run --layer bronze --force` with nothing new, as the serve follower runs it
  (WORKBENCH_TEST_SCOPE=batch in its environment) and as the daily job does (without it);
- the same after 1,000 new records landed (not analyzed: autovacuum has not seen them yet).
Wall-clock seconds of the child process (start to exit: lock, dbt start-up, models, tests,
history). `--project-dir DIR` measures another copy of the dbt project (e.g. an older one:
`git archive main dbt | tar -x -C /tmp/before`); the follower form then only differs if that
project reads WORKBENCH_TEST_SCOPE.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.cluster import BenchServer
from bench.proc import run_measured, venv_bin
from tests.pgcluster import temporary_cluster
from workbench.contract import TEST_SCOPE_ENV
from workbench.ingest.schema import ensure_raw_schema

INSERT = """
insert into raw.transactions
    (payload, source, source_file, source_row, batch_id, payload_sha256, ingested_at)
select jsonb_build_object(
           'transaction_id', %(tag)s || '-' || g, 'transaction_date', '2026-11-01',
           'store_id', 'S' || g %% 40, 'product_id', 'P' || g %% 800, 'basket_id', 'B' || g / 3,
           'category', 'Snacks', 'quantity', 2, 'unit_price', '18.50', 'amount', 37.0,
           'payment_method', 'cash', 'status', 'completed', 'customer_id', 'C' || g %% 5000),
       'jsonl', %(tag)s, g, %(tag)s, md5(%(tag)s || g),
       now() - %(ago)s::interval + g * %(step)s::interval
from generate_series(1, %(count)s) as g
"""
DB = "bronze_microbatch"


def _command(*extra: str) -> list[str]:
    workbench = venv_bin("workbench")
    return [workbench, "run", "--layer", "bronze", "--force", "--log-format", "json", *extra]


def _node_seconds(
    work: Path, name: str, models: dict[str, list[float]], tests: dict[str, list[float]]
) -> None:
    """Sum of dbt's own execution times of the run's models and of its tests (run_results)."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    for kind, into in (("model.", models), ("test.", tests)):
        into.setdefault(name, []).append(
            sum(r["execution_time"] for r in results if r["unique_id"].startswith(kind))
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bronze_microbatch")
    parser.add_argument("--rows", type=int, default=120_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--project-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    daily = _command()
    # the serve follower's run: the same command with WORKBENCH_TEST_SCOPE=batch (FOLLOWER_ENV)
    forms = {"follower": {TEST_SCOPE_ENV: "batch"}, "daily": {TEST_SCOPE_ENV: ""}}
    times: dict[str, list[float]] = {}
    models: dict[str, list[float]] = {}
    tests: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as work, temporary_cluster("bench-bronze-") as cluster:
        server = BenchServer(cluster)
        server.create_database(DB)
        env = {
            **os.environ,
            **server.env(DB),
            "DBT_TARGET_PATH": f"{work}/target",
            "DBT_LOG_PATH": f"{work}/logs",
        }
        if args.project_dir is not None:
            env["DBT_PROJECT_DIR"] = str(args.project_dir.resolve())
        log = Path(work) / "bench.log"
        with server.connect(DB) as conn:
            ensure_raw_schema(conn)
            step = f"{30 * 86400 / max(args.rows, 1):.3f} s"
            conn.execute(INSERT, {"tag": "old", "ago": "30 days", "step": step, "count": args.rows})
            # as autovacuum leaves an insert-only table (20 % more rows trigger it): vacuumed,
            # its BRIN ranges summarized, analyzed
            conn.execute("vacuum (analyze) raw.transactions")
        run_measured(daily, env=env, log=log)
        for repeat in range(args.repeats):
            for form, form_env in forms.items():
                run_env = {**env, **form_env}
                name = f"{form}, nothing new"
                times.setdefault(name, []).append(run_measured(daily, env=run_env, log=log).seconds)
                _node_seconds(Path(work), name, models, tests)
                with server.connect(DB) as conn:
                    tag = f"new{repeat}{form}"
                    conn.execute(INSERT, {"tag": tag, "ago": "0 s", "step": "1 ms", "count": 1000})
                time.sleep(1)
                name = f"{form}, 1,000 new"
                times.setdefault(name, []).append(run_measured(daily, env=run_env, log=log).seconds)
                _node_seconds(Path(work), name, models, tests)
        with server.connect(DB) as conn:
            row = conn.execute("select count(*) from bronze.bronze_transactions").fetchone()
    project = args.project_dir or "dbt/"
    print(f"bronze rows at the end: {row[0] if row else '?'}; project: {project}")
    print("| run | wall min | wall median | wall max | models (median) | tests (median) |")
    print("|---|---|---|---|---|---|")
    for name, values in times.items():
        print(
            f"| {name} | {min(values):.1f} s | {statistics.median(values):.1f} s"
            f" | {max(values):.1f} s | {statistics.median(models[name]):.2f} s"
            f" | {statistics.median(tests[name]):.2f} s |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
