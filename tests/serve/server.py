"""Start `workbench serve` as a pod does (a subprocess, JSON logs) on a free port; talk HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import psycopg

from tests.pgcluster import free_port

TOKEN = "test-ingest-token-0123456789"  # noqa: S105 - a throwaway token for a loopback server
READY_TIMEOUT_SECONDS = 30.0


def server_env(pg_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POSTGRES_", "DBT_", "WORKBENCH_", "PUSHGATEWAY"))
    }
    env.update(pg_env)
    env["WORKBENCH_INGEST_TOKEN"] = TOKEN
    env.update(extra)
    return env


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    log_file: IO[bytes]
    headers: dict[str, str] = field(default_factory=lambda: {"Authorization": f"Bearer {TOKEN}"})

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=60.0, **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, headers=self.headers, timeout=60.0, **kwargs)

    def events(self) -> list[dict[str, Any]]:
        """Every log line so far; each must be a JSON object (the pod's log is JSON only)."""
        self.log_file.flush()
        lines = Path(self.log_file.name).read_text(errors="replace").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def named(self, event: str) -> list[dict[str, Any]]:
        return [entry for entry in self.events() if entry.get("event") == event]

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited {process.returncode}: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"serve not healthy after {READY_TIMEOUT_SECONDS}s")


def start(env: dict[str, str], *args: str) -> Served:
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(prefix="serve-", suffix=".log")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "workbench.cli", "serve", "--host", "127.0.0.1", "--port",
         str(port), *args],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, Path(log_file.name))
    except BaseException:
        process.kill()
        process.wait()
        log_file.close()
        raise
    return Served(process, url, log_file)


@contextmanager
def serving(env: dict[str, str], *args: str) -> Iterator[Served]:
    served = start(env, *args)
    try:
        yield served
    finally:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait()
        served.log_file.close()


def query(pg_env: dict[str, str], statement: str, *params: object) -> list[tuple[Any, ...]]:
    conninfo = " ".join(
        f"{key}={pg_env[f'POSTGRES_{key.upper()}']}" for key in ("host", "port", "user", "password")
    )
    with psycopg.connect(f"{conninfo} dbname={pg_env['POSTGRES_DB']}") as conn:
        return conn.execute(statement.encode(), params or None).fetchall()
