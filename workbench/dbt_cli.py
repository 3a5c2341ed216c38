"""dbt's Python entry point: the one module that calls `dbtRunner`, and the flags every
invocation shares.

Arguments are always a list handed to dbtRunner, never a shell string.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.contract import SESSION_TIMEZONE

# What `dbt retry` / `--state` / `source_status:` read, kept from the preceding invocation.
ARTIFACT_FILES = ("run_results.json", "manifest.json", "sources.json")
# dbt's detailed log rolls over at this size and keeps 5 old files (dbt_common's
# RotatingFileHandler, backupCount=5): at most 12 MiB per log directory, whatever the run count.
LOG_FILE_MAX_BYTES = 2 * 1024 * 1024


def project_args(project_dir: Path) -> list[str]:
    """The project and its profiles.yml (which reads the POSTGRES_* variables)."""
    return [
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
    ]


def common_args(project_dir: Path) -> list[str]:
    """Flags of every invocation whose events we report ourselves (build, retry, docs)."""
    return [
        *project_args(project_dir),
        # dbt's console logger is off: stdout/stderr carry only our structured events;
        # dbt's detailed log still goes, as JSON, to its log file (DBT_LOG_PATH).
        "--log-level",
        "none",
        # Explicit, or dbt's file logger inherits "none" from --log-level and writes nothing.
        "--log-level-file",
        "debug",
        "--log-format-file",
        "json",
        "--log-file-max-bytes",
        str(LOG_FILE_MAX_BYTES),
    ]


def invoke(args: Sequence[str], callbacks: Sequence[Any] = ()) -> Any:
    """Run one dbt command in this process; returns dbt's `dbtRunnerResult`.

    dbt's connections (psycopg2, libpq) take their session time zone from PGTZ: UTC, as every
    connection of the runtime, whatever the server's `timezone` setting is.
    """
    from dbt.cli.main import dbtRunner

    os.environ["PGTZ"] = SESSION_TIMEZONE
    return dbtRunner(callbacks=list(callbacks)).invoke(list(args))


def collect_artifacts(target_path: Path) -> dict[str, Path]:
    """The artifacts a dbt invocation left in its target path (for `dbt retry` / `--state`)."""
    return {name: target_path / name for name in ARTIFACT_FILES if (target_path / name).is_file()}


def set_aside_artifacts(target_path: Path, keep_dir: Path) -> dict[str, Path]:
    """Copy the previous invocation's artifacts out of the target path before dbt rewrites it."""
    keep_dir.mkdir(parents=True, exist_ok=True)
    return {
        name: Path(shutil.copy2(path, keep_dir / name))
        for name, path in collect_artifacts(target_path).items()
    }
