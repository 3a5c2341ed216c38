"""`workbench serve` as a child process of a benchmark, on a free (or given) port."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bench.context import BenchContext
from tests.pgcluster import free_port
from workbench.contract import SERVE_TOKEN_ENV

TOKEN = "bench-token-0123456789abcdef"  # noqa: S105 - a throwaway token for a loopback server


class Service:
    """One `workbench serve` against one database; stopped with SIGTERM. `follow` keeps its
    bronze follower on (the default a user gets); its JSON log goes to `log`."""

    def __init__(
        self,
        ctx: BenchContext,
        pg_env: dict[str, str],
        run_dir: Path,
        log: Path,
        *,
        follow: bool,
        port: int | None = None,
    ) -> None:
        env = ctx.child_env(pg_env, run_dir)
        env[SERVE_TOKEN_ENV] = TOKEN
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log = log.open("ab")
        argv = [ctx.workbench, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if not follow:
            argv.append("--no-bronze-follow")
        self.process = subprocess.Popen(
            argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"workbench serve did not become healthy; see {log}")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 120) -> int:
        """SIGTERM (the service drains, its follower's run may finish); the exit code. One
        that has not exited within `timeout` is killed, its process group with it (the
        follower's dbt child), so no benchmark leaves a service behind."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            code = self.process.wait()
        finally:
            self._log.close()
        return code


def log_events(log: Path, event: str) -> list[dict[str, Any]]:
    """The service's JSON log lines named `event` (its children's lines are mixed in)."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("event") == event:
            found.append(value)
    return found
