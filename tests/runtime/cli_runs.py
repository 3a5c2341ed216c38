"""Run `workbench` as a subprocess (exactly as a pod does) and read back what it logged."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

RUN_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class CliRun:
    exit_code: int
    stdout: str
    stderr: str

    def events(self) -> list[dict[str, Any]]:
        """Every log line; each must be a JSON object (the pod's log stream is JSON only)."""
        lines = [line for line in (self.stdout + self.stderr).splitlines() if line.strip()]
        parsed = [json.loads(line) for line in lines]
        assert all(isinstance(event, dict) for event in parsed)
        return parsed

    def named(self, event: str) -> list[dict[str, Any]]:
        return [entry for entry in self.events() if entry.get("event") == event]


def workbench_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "workbench.cli", *args]


def run_workbench(*args: str, env: dict[str, str]) -> CliRun:
    done = subprocess.run(
        workbench_command(*args),
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def start_workbench(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        workbench_command(*args),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> CliRun:
    stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_SECONDS)
    return CliRun(process.returncode, stdout, stderr)
