"""`dbt docs generate` through dbt's Python entry point.

`docs generate` overwrites ``run_results.json`` and ``manifest.json`` in the target path, so
the artifacts of the invocation that ran before it (``workbench run`` on a laptop, or a
previous step writing the same target path) are set aside first: they are what ``dbt retry``
and ``--state`` comparisons need, and they are published under ``artifacts/``.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.run.exit_codes import ExitCode, classify_database_error

# What a browser needs: index.html loads manifest.json and catalog.json beside it.
SITE_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")
# What `dbt retry` / `--state` / `source_status:` read, kept from the preceding invocation.
ARTIFACT_FILES = ("run_results.json", "manifest.json", "sources.json")
# dbt's exception types that mean "the warehouse could not be reached" (a retryable error).
_CONNECTION_ERRORS = frozenset({"FailedToConnectError"})


class DocsGenerationError(RuntimeError):
    def __init__(self, message: str, exit_code: ExitCode) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class GeneratedDocs:
    site: Mapping[str, Path]  # published name -> file
    artifacts: Mapping[str, Path]  # published name (below artifacts/) -> file


def resolve_target_path(explicit: Path | None, project_dir: Path, env: Mapping[str, str]) -> Path:
    """The target path dbt will write: --target-path, then DBT_TARGET_PATH, then dbt/target."""
    if explicit is not None:
        return explicit
    from_env = env.get("DBT_TARGET_PATH")
    if from_env:
        path = Path(from_env)
        return path if path.is_absolute() else project_dir / path
    return project_dir / "target"


def resolve_log_path(project_dir: Path, env: Mapping[str, str]) -> Path:
    """The directory of dbt's log file: DBT_LOG_PATH, else dbt/logs."""
    from_env = env.get("DBT_LOG_PATH")
    return Path(from_env) if from_env else project_dir / "logs"


def docs_generate_args(
    project_dir: Path, target_path: Path, log_path: Path, *, static: bool
) -> list[str]:
    args = [
        "docs",
        "generate",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target_path),
        # Passed explicitly so that the path our error messages name is the one dbt writes.
        "--log-path",
        str(log_path),
        # Only our structured events reach stdout/stderr; dbt's log goes to its log file.
        "--log-level",
        "none",
        # Explicit, or dbt's file logger inherits "none" from --log-level and writes nothing.
        "--log-level-file",
        "debug",
        "--log-format-file",
        "json",
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
    ]
    if static:
        args.append("--static")
    return args


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


def _run_dbt(args: list[str], log_file: Path) -> None:
    from dbt.cli.main import dbtRunner
    from dbt.exceptions import ParsingError
    from dbt_common.exceptions import CompilationError

    result = dbtRunner().invoke(args)
    if result.success:
        return
    exc = result.exception
    if exc is None:
        raise DocsGenerationError(
            f"dbt docs generate reported failed nodes; see the dbt log file {log_file} for which",
            exit_code=ExitCode.FAILURE,
        )
    kind = type(exc).__name__
    detail = " ".join(str(exc).split())[:500] or kind
    if isinstance(exc, CompilationError | ParsingError):
        raise DocsGenerationError(
            f"the dbt project does not compile ({kind}): {detail}", exit_code=ExitCode.FAILURE
        )
    if kind in _CONNECTION_ERRORS:
        raise DocsGenerationError(
            "dbt docs generate needs the database for the catalog and could not connect: "
            f"{detail}. Check POSTGRES_HOST/POSTGRES_PORT/POSTGRES_USER/POSTGRES_DB and that "
            "the server is up",
            exit_code=classify_database_error(detail),
        )
    raise DocsGenerationError(
        f"dbt docs generate failed ({kind}): {detail} (dbt log file: {log_file})",
        exit_code=ExitCode.RUNTIME_ERROR,
    )


def generate_docs(
    project_dir: Path, target_path: Path, log_path: Path, keep_dir: Path, *, static: bool
) -> GeneratedDocs:
    """Run `dbt docs generate`; return the site files and the artifacts to publish."""
    kept = set_aside_artifacts(target_path, keep_dir)
    _run_dbt(
        docs_generate_args(project_dir, target_path, log_path, static=static),
        log_path / "dbt.log",
    )
    wanted = SITE_FILES if static else tuple(n for n in SITE_FILES if n != "static_index.html")
    site = {name: target_path / name for name in wanted if (target_path / name).is_file()}
    missing = {"index.html", "manifest.json", "catalog.json"} - set(site)
    if missing:
        raise DocsGenerationError(
            f"dbt docs generate finished but did not write {', '.join(sorted(missing))} "
            f"in {target_path}",
            exit_code=ExitCode.RUNTIME_ERROR,
        )
    # Without a preceding invocation in this target path, the docs run's own artifacts
    # (manifest and run_results of `docs generate`) are what there is to keep.
    artifacts = kept or collect_artifacts(target_path)
    return GeneratedDocs(site=site, artifacts=artifacts)
