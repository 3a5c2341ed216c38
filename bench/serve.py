"""HTTP landing: `workbench serve` fed NDJSON POSTs of 1,000 records vs `workbench ingest` of
the same records from files; then single-record POST latency at fixed offered loads.

The load generator is this process (asyncio + httpx, CONCURRENCY connections, each POSTing
the next 1,000 lines of the dataset's files as they stream off disk); its own CPU time and the
server process's are reported beside the wall time. Each repeat lands into a brand-new database
on both sides, alternating, so drift on a shared machine hits both. Bronze following is off:
this measures landing (acknowledged = committed in raw), not the bronze run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.cluster import BenchServer, throwaway_server
from bench.context import BenchContext
from bench.dataset import clean_copy, dataset
from bench.proc import run_measured
from bench.results import BenchResult, Side
from bench.stats import series
from tests.pgcluster import free_port

NAME = "serve"
TITLE = "HTTP landing (workbench serve, NDJSON POSTs of 1,000) vs workbench ingest"
TARGET = 2.0
BATCH = 1000
CONCURRENCY = 4
# Offered single-record POSTs per second, each held for LOAD_SECONDS (open loop: a request is
# sent on schedule whether or not earlier ones were answered).
OFFERED_LOADS = (25, 50, 100, 200, 300, 400)
LOAD_SECONDS = 5.0
P99_TARGET_MS = 100.0
TOKEN = "bench-token-0123456789abcdef"  # noqa: S105 - a throwaway token for a loopback server


class _Service:
    """`workbench serve` on a free port against one database; stopped with SIGTERM."""

    def __init__(self, ctx: BenchContext, server: BenchServer, dbname: str, run_dir: Path):
        env = ctx.child_env(server.env(dbname), run_dir)
        env["WORKBENCH_INGEST_TOKEN"] = TOKEN
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = (run_dir / f"serve-{dbname}.log").open("ab")
        self.process = subprocess.Popen(
            [ctx.workbench, "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--no-bronze-follow"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("workbench serve did not become healthy")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        self._log.close()


def _batches(files: list[Path]) -> Iterator[bytes]:
    for path in files:
        with path.open("rb") as stream:
            while chunk := list(itertools.islice(stream, BATCH)):
                yield b"".join(line if line.endswith(b"\n") else line + b"\n" for line in chunk)


async def _post_all(url: str, files: list[Path]) -> int:
    batches = _batches(files)
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Content-Type": "application/x-ndjson",
    }
    landed = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal landed
        for body in batches:  # the shared iterator hands each batch to one worker
            answer = await client.post("/v1/transactions", content=body, headers=headers)
            if answer.status_code != 202:
                raise RuntimeError(f"POST answered {answer.status_code}: {answer.text[:200]}")
            landed += int(answer.json()["records"])

    limits = httpx.Limits(max_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
    return landed


def _http_landing(
    ctx: BenchContext, server: BenchServer, files: list[Path], dbname: str, run_dir: Path
) -> tuple[float, float, float]:
    """(wall seconds, load generator CPU seconds, server CPU seconds) of one landing."""
    server.create_database(dbname)
    service = _Service(ctx, server, dbname, run_dir)
    try:
        server_cpu = service.cpu_seconds()
        cpu = time.process_time()
        begin = time.perf_counter()
        landed = asyncio.run(_post_all(service.url, files))
        seconds = time.perf_counter() - begin
        cpu = time.process_time() - cpu
        server_cpu = service.cpu_seconds() - server_cpu
    finally:
        service.stop()
    in_raw = int(server.scalar(dbname, "select count(*) from raw.transactions"))
    if in_raw != landed:
        raise RuntimeError(f"{landed} records acknowledged, {in_raw} in raw")
    return seconds, cpu, server_cpu


async def _offered_load(url: str, rate: int) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    latencies: list[float] = []
    failures = 0

    async def one(client: httpx.AsyncClient, number: int) -> None:
        nonlocal failures
        begin = time.perf_counter()
        answer = await client.post(
            "/v1/transactions",
            json={"transaction_id": f"L{rate}-{number}", "amount": "1.00"},
            headers=headers,
        )
        if answer.status_code == 202:
            latencies.append(time.perf_counter() - begin)
        else:
            failures += 1

    total = int(rate * LOAD_SECONDS)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        start = time.perf_counter()
        tasks = []
        for number in range(total):
            delay = start + number / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, number)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    p99_index = max(0, int(len(ordered) * 0.99) - 1)
    return {
        "offered_per_second": rate,
        "answered_per_second": round(len(latencies) / elapsed, 1),
        "requests": total,
        "failures": failures,
        "p50_ms": round(statistics.median(ordered) * 1000, 2) if ordered else None,
        "p99_ms": round(ordered[p99_index] * 1000, 2) if ordered else None,
    }


def _latency(ctx: BenchContext, server: BenchServer, run_dir: Path) -> list[dict[str, object]]:
    server.create_database("latency")
    service = _Service(ctx, server, "latency", run_dir)
    try:
        asyncio.run(_offered_load(service.url, 10))  # warm: schema, pool, first connections
        return [asyncio.run(_offered_load(service.url, rate)) for rate in OFFERED_LOADS]
    finally:
        service.stop()


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME, title=TITLE, scale=ctx.scale, target=TARGET, target_text=f"<= {TARGET}x"
    )
    run_dir = ctx.fresh_run_dir(NAME)
    ds = dataset(ctx, ctx.scale)
    files, lines = clean_copy(ds, ctx.workdir / "data" / f"clean-{ctx.scale}")
    candidate: list[float] = []
    baseline: list[float] = []
    generator_cpu: list[float] = []
    server_cpu: list[float] = []
    ingest_cpu: list[float] = []
    with throwaway_server(ctx.workdir, NAME) as server:
        for i in range(ctx.repeats):
            seconds, cpu, served_cpu = _http_landing(ctx, server, files, f"http_{i}", run_dir)
            server.drop_database(f"http_{i}")
            candidate.append(seconds)
            generator_cpu.append(cpu)
            server_cpu.append(served_cpu)
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
        f"POST /v1/transactions, NDJSON, {BATCH} records a request, {CONCURRENCY} connections",
        series(candidate),
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
        and isinstance(load["p99_ms"], float)
        and load["p99_ms"] < P99_TARGET_MS
    ]
    result.extra = {
        "records_per_run": lines,
        "requests_per_run": -(-lines // BATCH),
        "candidate_records_per_second_median": round(lines / result.candidate.seconds.median),
        "baseline_records_per_second_median": round(lines / result.baseline.seconds.median),
        "load_generator_cpu_seconds": series(generator_cpu).as_dict(),
        "server_process_cpu_seconds": series(server_cpu).as_dict(),
        "ingest_process_cpu_seconds": series(ingest_cpu).as_dict(),
        "single_record_posts": loads,
        "highest_offered_load_with_p99_under_100ms": max(under_target, default=None),
    }
    result.notes.append(
        "The load generator (asyncio + httpx in the bench process) shares the machine's CPUs "
        "with the server and PostgreSQL; its own CPU time is reported beside the wall time. "
        "Single-record POSTs are sent open loop at each offered rate for "
        f"{LOAD_SECONDS:g} s; latency is request to 202 (after the commit)."
    )
    result.notes.append(json.dumps({"offered_loads": OFFERED_LOADS}))
    return result
