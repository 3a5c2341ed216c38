"""`dbt docs generate` through dbt's Python entry point.

`docs generate` overwrites ``run_results.json`` and ``manifest.json`` in the target path, so
the artifacts of the invocation that ran before it (``workbench run`` on a laptop, or a
previous step writing the same target path) are set aside first: they are what ``dbt retry``
and ``--state`` comparisons need, and they are published under ``artifacts/``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.contract import ExitCode
from workbench.dbt_cli import collect_artifacts, common_args, invoke, set_aside_artifacts
from workbench.exit_codes import classify_database_error

# What a browser needs: index.html loads manifest.json and catalog.json beside it.
SITE_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")
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


def docs_generate_args(
    project_dir: Path, target_path: Path, log_path: Path, *, static: bool
) -> list[str]:
    args = [
        "docs",
        "generate",
        *common_args(project_dir),
        "--target-path",
        str(target_path),
        # Passed explicitly so that the path our error messages name is the one dbt writes.
        "--log-path",
        str(log_path),
    ]
    if static:
        args.append("--static")
    return args


def _run_dbt(args: list[str], log_file: Path) -> None:
    from dbt.exceptions import ParsingError
    from dbt_common.exceptions import CompilationError

    result = invoke(args)
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
