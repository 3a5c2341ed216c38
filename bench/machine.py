"""What the numbers were measured on, recorded beside every result."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git_commit(repo: Path) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


def dependencies_precompiled() -> bool:
    """Whether the virtualenv holds bytecode for dbt, as the image does (UV_COMPILE_BYTECODE).

    Without it every `workbench`/`dbt` child compiles dbt's sources at import (about a second
    on two cores, and always when PYTHONDONTWRITEBYTECODE is set), which inflates every
    start-up-bound number. `make setup` runs `uv sync --frozen --compile-bytecode`.
    """
    import importlib.util

    # Located, not imported: importing dbt would grow this process by ~50 MB, and a child's
    # ru_maxrss includes its parent's resident set at the fork (see bench/proc.py).
    spec = importlib.util.find_spec("dbt")
    if spec is None or not spec.submodule_search_locations:
        return False
    source = Path(next(iter(spec.submodule_search_locations))) / "cli" / "main.py"
    return Path(importlib.util.cache_from_source(str(source))).exists()


def machine_info(repo: Path, postgres_version: str | None) -> dict[str, object]:
    load1, load5, _ = os.getloadavg()
    return {
        "hostname": platform.node(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gb": _memory_gb(),
        "load_average_at_start": [round(load1, 2), round(load5, 2)],
        "postgres": postgres_version,
        "git_commit": _git_commit(repo),
        "dependencies_precompiled": dependencies_precompiled(),
    }
