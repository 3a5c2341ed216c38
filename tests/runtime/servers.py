"""Real prometheus-pushgateway and prometheus binaries on loopback, for the metrics tests."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests import prerequisites
from tests.pgcluster import free_port

READY_TIMEOUT_SECONDS = 60.0


def require_binary(name: str) -> str:
    return prerequisites.require(name)


def http_get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback http
        body: bytes = response.read()
        return body


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited early: {log.read_text(errors='replace')[-2000:]}")
        try:
            http_get(url, timeout=1.0)
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {READY_TIMEOUT_SECONDS}s")


@dataclass
class _Server:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Pushgateway(_Server):
    def metrics_text(self) -> str:
        return http_get(f"{self.url}/metrics").decode()

    def sample(self, name: str, **labels: str) -> float | None:
        """The value of one pushed sample (labels must match exactly the given subset)."""
        for line in self.metrics_text().splitlines():
            if not line.startswith(name + "{"):
                continue
            head, value = line.rsplit(" ", 1)
            label_text = head[len(name) + 1 : -1]
            if all(f'{key}="{val}"' in label_text for key, val in labels.items()):
                return float(value)
        return None


@dataclass
class Prometheus(_Server):
    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        payload = json.loads(http_get(url))
        assert payload["status"] == "success", payload
        result: list[dict[str, Any]] = payload["data"]["result"]
        return result

    def wait_for(self, expr: str, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll until the query returns a non-empty vector (scrapes are every second)."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expr)
            if result or time.monotonic() > deadline:
                return result
            time.sleep(0.5)


def start_pushgateway(workdir: Path) -> Pushgateway:
    binary = require_binary("prometheus-pushgateway")
    port = free_port()
    log = workdir / "pushgateway.log"
    process = subprocess.Popen(
        [binary, f"--web.listen-address=127.0.0.1:{port}"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_ready(f"{url}/-/ready", process, log)
    return Pushgateway(process, url)


def start_prometheus(workdir: Path, scrape_target: str) -> Prometheus:
    binary = require_binary("prometheus")
    port = free_port()
    config = workdir / "prometheus.yml"
    target = urllib.parse.urlparse(scrape_target).netloc
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: pushgateway\n    honor_labels: true\n"
        f"    static_configs:\n      - targets: ['{target}']\n"
    )
    log = workdir / "prometheus.log"
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_ready(f"{url}/-/ready", process, log)
    return Prometheus(process, url)
