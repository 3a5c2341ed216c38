"""HTTP landing: `workbench serve` fed NDJSON POSTs of 1,000 records vs `workbench ingest` of
the same records from files; then single-record POST latency at fixed offered loads.

The load generator is npm autocannon, pinned in bench/load/package-lock.json and installed into
bench/load/node_modules by `make bench` / `make tools` (scripts/install-bench-load.sh). It runs
as its own Node process (bench/load/post_batches.mjs: CONCURRENCY connections, each request the
next 1,000 lines of the dataset's files, every line once; bench/load/offered_load.mjs: open-loop
single-record POSTs), so its own CPU (user + system, from wait4) is reported beside the wall time
with the server process's. Each repeat lands into a brand-new database on both sides,
alternating, so drift on a shared machine hits both. Bronze following is off: this measures
landing (acknowledged = committed in raw), not the bronze run.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cluster import BenchServer, throwaway_server
from bench.context import BenchContext
from bench.dataset import clean_copy, dataset
from bench.proc import BenchStepError, Measured, run_measured
from bench.results import BenchResult, Side
from bench.service import TOKEN, Service
from bench.stats import series

NAME = "serve"
TITLE = "HTTP landing (workbench serve, NDJSON POSTs of 1,000) vs workbench ingest"
TARGET = 2.0
BATCH = 1000
CONCURRENCY = 4
# Offered single-record POSTs per second, each held for LOAD_SECONDS (whole seconds: autocannon
# paces each connection in 1 s windows). Open loop: see bench/load/offered_load.mjs.
OFFERED_LOADS = (25, 50, 100, 200, 400, 600, 800, 1000, 1500)
LOAD_SECONDS = 5
P99_TARGET_MS = 100.0
# autocannon instances started 1/SLICES s apart at each offered load (min(rate, SLICES)).
SLICES = 50
LOAD_DIR = Path(__file__).resolve().parent / "load"
AUTOCANNON_PACKAGE = LOAD_DIR / "node_modules" / "autocannon" / "package.json"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise BenchStepError(
            "node is needed for the load generator (autocannon): apt-get install npm"
        )
    if not AUTOCANNON_PACKAGE.exists():
        raise BenchStepError(
            f"autocannon is not installed in {LOAD_DIR / 'node_modules'}: run `make bench`, "
            "`make tools` or `bash scripts/install-bench-load.sh` (npm ci of bench/load)"
        )
    return node


def _autocannon_version() -> str:
    return str(json.loads(AUTOCANNON_PACKAGE.read_text())["version"])


def _drive(
    ctx: BenchContext, run_dir: Path, script: str, name: str, args: list[str]
) -> tuple[Measured, dict[str, Any]]:
    """Run one autocannon driver as a child (its CPU measured by wait4); its JSON summary."""
    summary = run_dir / f"load-{name}.json"
    summary.unlink(missing_ok=True)
    env = ctx.child_env(None, run_dir)
    env["LOAD_TOKEN"] = TOKEN
    done = run_measured(
        [_node(), str(LOAD_DIR / script), "--summary", str(summary), *args],
        env=env,
        log=run_dir / "load-generator.log",
        check=False,
    )
    if not summary.exists():
        raise BenchStepError(f"{script} exited {done.exit_code} without a summary; see {done.log}")
    answer: dict[str, Any] = json.loads(summary.read_text())
    return done, answer


@dataclass(frozen=True)
class _Landing:
    seconds: float  # first request written to last 202 read, measured by the driver
    generator_cpu: float  # user + system CPU of the whole Node process (wait4)
    generator_process_seconds: float  # wall time of that process: start-up and line count too
    server_cpu: float
    summary: dict[str, Any]


def _http_landing(
    ctx: BenchContext,
    server: BenchServer,
    files: list[Path],
    lines: int,
    dbname: str,
    run_dir: Path,
) -> _Landing:
    """One landing of every line of `files` through autocannon; fails unless all were 202s."""
    server.create_database(dbname)
    service = Service(
        ctx, server.env(dbname), run_dir, run_dir / f"serve-{dbname}.log", follow=False
    )
    try:
        server_cpu = service.cpu_seconds()
        done, summary = _drive(
            ctx, run_dir, "post_batches.mjs", f"batches-{dbname}",
            ["--url", service.url, "--batch", str(BATCH), "--connections", str(CONCURRENCY),
             *map(str, files)],
        )  # fmt: skip
        server_cpu = service.cpu_seconds() - server_cpu
    finally:
        service.stop()
    if done.exit_code != 0:
        raise BenchStepError(
            f"the load generator reported failed requests (exit {done.exit_code}): "
            f"{json.dumps(summary)[:2000]}; see {done.log}"
        )
    acknowledged = int(summary["records_acknowledged"])
    in_raw = int(server.scalar(dbname, "select count(*) from raw.transactions"))
    if not acknowledged == in_raw == lines:
        raise RuntimeError(f"{acknowledged} records acknowledged, {in_raw} in raw, {lines} lines")
    return _Landing(
        seconds=float(summary["seconds"]),
        generator_cpu=done.cpu_seconds,
        generator_process_seconds=done.seconds,
        server_cpu=server_cpu,
        summary=summary,
    )


def _offered_load(
    ctx: BenchContext, run_dir: Path, url: str, rate: int, label: str
) -> dict[str, Any]:
    done, summary = _drive(
        ctx, run_dir, "offered_load.mjs", f"{label}{rate}",
        ["--url", url, "--rate", str(rate), "--seconds", str(LOAD_SECONDS),
         "--slices", str(SLICES), "--label", label],
    )  # fmt: skip
    if done.exit_code != 0:
        raise BenchStepError(f"offered_load.mjs exited {done.exit_code}; see {done.log}")
    latency = summary["latency_ms"]
    answered = latency["samples"] > 0
    return {
        "offered_per_second": rate,
        "answered_per_second": round(float(summary["answered_2xx_per_second"]), 1),
        "requests": summary["requests_sent"],
        "answered_2xx": summary["status_2xx"],
        # every request sent without a 2xx answer: non-2xx, errors (timeouts included)
        "failures": summary["requests_sent"] - summary["status_2xx"],
        "non_2xx": summary["non_2xx"],
        "errors": summary["errors"],
        "timeouts": summary["timeouts"],
        "p50_ms": latency["p50"] if answered else None,
        "p99_ms": latency["p99"] if answered else None,
        "max_ms": latency["max"] if answered else None,
        "first_request_to_last_answer_seconds": round(float(summary["elapsed_seconds"] or 0), 3),
        "load_generator_cpu_seconds": round(done.cpu_seconds, 3),
        "load_generator_peak_rss_mb": round(done.peak_rss_mb, 1),
    }


def _latency(ctx: BenchContext, server: BenchServer, run_dir: Path) -> list[dict[str, Any]]:
    server.create_database("latency")
    service = Service(
        ctx, server.env("latency"), run_dir, run_dir / "serve-latency.log", follow=False
    )
    try:
        # warm: schema, pool, first connections; a failure here is a broken setup, not load
        warm = _offered_load(ctx, run_dir, service.url, 10, "W")
        if warm["failures"]:
            raise BenchStepError(f"warm-up POSTs failed: {warm}")
        return [_offered_load(ctx, run_dir, service.url, rate, "L") for rate in OFFERED_LOADS]
    finally:
        service.stop()


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME, title=TITLE, scale=ctx.scale, target=TARGET, target_text=f"<= {TARGET}x"
    )
    _node()  # before any data is generated: autocannon must be installed
    version = _autocannon_version()
    run_dir = ctx.fresh_run_dir(NAME)
    ds = dataset(ctx, ctx.scale)
    files, lines = clean_copy(ds, ctx.workdir / "data" / f"clean-{ctx.scale}")
    landings: list[_Landing] = []
    baseline: list[float] = []
    ingest_cpu: list[float] = []
    with throwaway_server(ctx.workdir, NAME) as server:
        for i in range(ctx.repeats):
            landings.append(_http_landing(ctx, server, files, lines, f"http_{i}", run_dir))
            server.drop_database(f"http_{i}")
            server.create_database(f"file_{i}")
            done = run_measured(
                [ctx.workbench, "ingest", *map(str, files), "--entity", "transactions"],
                env=ctx.child_env(server.env(f"file_{i}"), run_dir),
                log=run_dir / "ingest.log",
            )
            landed = int(server.scalar(f"file_{i}", "select count(*) from raw.transactions"))
            if landed != lines:
                raise RuntimeError(f"workbench ingest landed {landed} of {lines} lines")
            server.drop_database(f"file_{i}")
            baseline.append(done.seconds)
            ingest_cpu.append(done.cpu_seconds)
        loads = _latency(ctx, server, run_dir)
    result.candidate = Side(
        "workbench serve",
        f"POST /v1/transactions, NDJSON, {BATCH} records a request, {CONCURRENCY} connections "
        f"(autocannon {version}, bench/load/post_batches.mjs)",
        series([landing.seconds for landing in landings]),
    )
    result.baseline = Side(
        "workbench ingest",
        f"workbench ingest <{len(files)} files> --entity transactions",
        series(baseline),
    )
    under_target = [
        load["offered_per_second"]
        for load in loads
        if load["failures"] == 0
        and isinstance(load["p99_ms"], int | float)
        and load["p99_ms"] < P99_TARGET_MS
    ]
    result.extra = {
        "records_per_run": lines,
        "requests_per_run": landings[0].summary["batches"],
        "candidate_records_per_second_median": round(lines / result.candidate.seconds.median),
        "baseline_records_per_second_median": round(lines / result.baseline.seconds.median),
        "load_generator": {"tool": "autocannon (npm)", "version": version},
        "load_generator_cpu_seconds": series([x.generator_cpu for x in landings]).as_dict(),
        "load_generator_cpu_seconds_during_load": series(
            [float(x.summary["cpu_seconds_during_load"]) for x in landings]
        ).as_dict(),
        "load_generator_process_seconds": series(
            [x.generator_process_seconds for x in landings]
        ).as_dict(),
        "batch_request_latency_ms": [x.summary["latency_ms"] for x in landings],
        "server_process_cpu_seconds": series([x.server_cpu for x in landings]).as_dict(),
        "ingest_process_cpu_seconds": series(ingest_cpu).as_dict(),
        "single_record_posts": loads,
        "highest_offered_load_with_p99_under_100ms": max(under_target, default=None),
    }
    result.notes.extend(_NOTES)
    result.notes.append(json.dumps({"offered_loads": OFFERED_LOADS, "slices": SLICES}))
    return result


_NOTES = [
    "Load generator: npm autocannon (version in extra.load_generator, pinned in "
    "bench/load/package-lock.json), a Node process of its own on the same 2 CPUs as the server "
    "and PostgreSQL. load_generator_cpu_seconds is that whole process's user + system CPU "
    "(wait4: start-up and the line-count pass included); _during_load is the driver's "
    "process.cpuUsage() around the autocannon run.",
    f"Batch landing (bench/load/post_batches.mjs): autocannon `amount` = the number of "
    f"batches, {CONCURRENCY} connections, pipelining 1; setupRequest gives every request the "
    f"next {BATCH} lines (a batch never spans two files), onResponse adds up the `records` of "
    "each 202. Candidate seconds = first request written to last 202 read, measured in the "
    "driver (autocannon's own `duration` adds up to one 1 s sample interval after the last "
    "answer). Any answer but 202 or any request error fails the bench; records acknowledged = "
    "rows in raw.transactions = lines in the files.",
    "Latency (autocannon 9, lib/pipelinedRequestsQueue.js + lib/httpClient.js): from just "
    "before the request is written to the socket to the end of the parsed answer (the first "
    "request of a connection includes the TCP connect), recorded in an HdrHistogram in whole "
    "milliseconds (lib/histUtil.js, lowest discernible value 1 ms: p50 3 means 3-4 ms); 2xx "
    "answers only (excludeErrorStats).",
    "Pacing (lib/run.js, lib/httpClient.js): overallRate is split over the connections; each "
    "connection may send its share in 1 s windows reset by its own setInterval, and sends its "
    "next request only after the previous answer. Here connections = offered rate (1 request "
    "a second each), so a request waits for an earlier answer only when that answer took over "
    "1 s; the windows of one instance's connections start together, so min(rate, "
    f"{SLICES}) autocannon instances are started 1/{SLICES} s apart and merged with "
    "autocannon.aggregateResult (up to 50/s evenly spaced single requests; at 400/s, 8 at a "
    f"time every 20 ms). Each connection sends exactly {LOAD_SECONDS} requests (`amount`; a "
    "`duration` stop would drop the requests in flight uncounted). autocannon's "
    "coordinated-omission correction is off (ignoreCoordinatedOmission): it takes ceil(1/rate)"
    " = 1 ms as the expected interval of a 1/s connection and would add synthetic samples. "
    f"answered_per_second = 2xx answers / max({LOAD_SECONDS} s, first request to last "
    "answer); failures = requests sent - 2xx answers (non-2xx, connection errors, timeouts).",
]
