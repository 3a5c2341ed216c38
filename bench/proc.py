"""Run a child process and measure it: wall-clock seconds and the child's own peak RSS.

Peak RSS comes from `os.wait4`, which returns the resource usage of exactly that child
(not of its grandchildren), so it is the memory of e.g. `workbench ingest`. One caveat: Linux
folds the resident set the child had before its exec — this process's, shared at the fork —
into that peak, so the bench process must stay smaller than what it measures (it never
imports dbt; `bench.machine.dependencies_precompiled` only locates it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class BenchStepError(RuntimeError):
    """A command the benchmark depends on failed; the message says which and where its log is."""


@dataclass(frozen=True)
class Measured:
    seconds: float
    exit_code: int
    peak_rss_mb: float
    cpu_seconds: float  # user + system CPU of the child itself (not of PostgreSQL)
    started_at: float  # time.time() just before the child was started
    log: Path


def venv_bin(name: str) -> str:
    """An executable of this virtualenv (workbench, dbt), called directly: no `uv run` timed."""
    candidate = Path(sys.executable).parent / name
    if not candidate.exists():
        raise BenchStepError(f"{candidate} not found: run `make setup` (uv sync --frozen) first")
    return str(candidate)


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log: Path,
    cwd: Path | None = None,
    check: bool = True,
) -> Measured:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(argv)}\n".encode())
        out.flush()
        started_at = time.time()
        begin = time.perf_counter()
        child = subprocess.Popen(
            list(argv), env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - begin
    child.returncode = os.waitstatus_to_exitcode(status)
    measured = Measured(
        seconds=seconds,
        exit_code=child.returncode,
        peak_rss_mb=usage.ru_maxrss / 1024,  # Linux reports kilobytes
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        started_at=started_at,
        log=log,
    )
    shown = " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv[:4]))
    print(f"   {seconds:8.2f} s  exit {measured.exit_code}  {shown} ...", flush=True)
    if check and measured.exit_code != 0:
        raise BenchStepError(f"`{' '.join(argv[:4])} ...` exited {measured.exit_code}; see {log}")
    return measured
