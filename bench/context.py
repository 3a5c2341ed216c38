"""What every benchmark gets: scales, repeats, where to work, how to call the tools."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bench.proc import venv_bin

REPO_ROOT = Path(__file__).resolve().parent.parent
# `dbt build --select` also picks the tests of what it selects; models-only runs exclude them.
NO_TESTS = "resource_type:test resource_type:unit_test"


@dataclass(frozen=True)
class BenchContext:
    scale: int
    big_scale: int  # 0 = do not measure the big size
    repeats: int
    workdir: Path  # data, throwaway servers, dbt targets and logs; not committed
    results_dir: Path

    def child_env(self, pg_env: dict[str, str] | None, run_dir: Path) -> dict[str, str]:
        """Environment for `workbench` / `dbt` children: POSTGRES_*, own target and log dirs."""
        env = dict(os.environ)
        for key in ("PUSHGATEWAY_URL", "WORKFLOW_NAME", "WORKFLOW_UID", "POD_NAME"):
            env.pop(key, None)
        if pg_env is not None:
            env.update(pg_env)
            env["PGPASSWORD"] = pg_env["POSTGRES_PASSWORD"]
        env["DBT_TARGET_PATH"] = str(run_dir / "target")
        env["DBT_LOG_PATH"] = str(run_dir / "logs")
        env["DBT_PROJECT_DIR"] = str(REPO_ROOT / "dbt")
        env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
        return env

    def fresh_run_dir(self, name: str) -> Path:
        """An empty directory for one benchmark's targets and logs (a rerun starts clean)."""
        path = self.workdir / "runs" / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    @property
    def workbench(self) -> str:
        return venv_bin("workbench")

    @property
    def dbt(self) -> str:
        return venv_bin("dbt")

    @property
    def project_dir(self) -> Path:
        return REPO_ROOT / "dbt"


def psql_argv(pg_env: dict[str, str], *extra: str) -> list[str]:
    """psql against one database, quiet, stop on the first error; password via PGPASSWORD."""
    return [
        "psql",
        "-X",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        pg_env["POSTGRES_HOST"],
        "-p",
        pg_env["POSTGRES_PORT"],
        "-U",
        pg_env["POSTGRES_USER"],
        "-d",
        pg_env["POSTGRES_DB"],
        *extra,
    ]
