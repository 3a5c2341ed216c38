"""The `workbench` console script: one entry point for pods and people.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``execute(args) -> int``; only the module of the command being run is imported, so
``workbench run`` does not pay for boto3 or the Kubernetes client.

Exit codes are workbench.exit_codes.ExitCode: a usage error is CONFIGURATION_ERROR (argparse
would exit 2, which Argo retries), an exception no command handled is logged and is
RUNTIME_ERROR (Python would exit 1, which reads as "a model failed" and is never retried).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

import structlog

from workbench.contract import EXIT_CODE_OUTPUT, OUTPUTS_DIR_ENV, ExitCode
from workbench.observability.log_format import add_log_format_argument, resolve_log_format
from workbench.observability.logging import configure_logging

COMMANDS: dict[str, tuple[str, str]] = {
    "sample-data": ("workbench.sample_data.command", "generate deterministic Scout Retail data"),
    "ingest": ("workbench.ingest.command", "load CSV / JSON Lines files into raw landing"),
    "run": (
        "workbench.jobs.run_then_embed",
        "dbt build one medallion layer (or all); platinum also embeds",
    ),
    "docs": ("workbench.docs.command", "generate dbt docs and optionally publish them to S3"),
    "demo": ("workbench.demo.command", "the whole pipeline on a laptop, embedded PostgreSQL"),
    "submit": ("workbench.submit.command", "submit a Workflow from the WorkflowTemplate"),
    "serve": ("workbench.serve.command", "HTTP landing service: records in, bronze follows"),
    "embed": ("workbench.embed.command", "embed platinum's new texts into pgvector"),
    "search": ("workbench.embed.search_command", "catalog products nearest to a query"),
}

# Commands that need an optional extra of the distribution (pyproject.toml), so that the pod image
# carries only what pods run: command -> (extra, the module that extra installs).
NEEDS_EXTRA: dict[str, tuple[str, str]] = {
    "demo": ("demo", "pgserver"),
    "submit": ("submit", "kubernetes"),
}

# Commands that run without an extra but do more with it: `embed` and `search` embed with the
# in-package model (wordllama) when the `embed` extra is installed, else with the hashing
# baseline, and say so in the log.
IMPROVED_BY_EXTRA: dict[str, tuple[str, str]] = {
    "embed": ("embed", "wordllama"),
    "search": ("embed", "wordllama"),
}


def missing_extra(command: str) -> tuple[str, str] | None:
    """(extra, module) when `command` needs an extra this installation lacks."""
    needed = NEEDS_EXTRA.get(command)
    if needed is None or importlib.util.find_spec(needed[1]) is not None:
        return None
    return needed


class UsageParser(argparse.ArgumentParser):
    """argparse that exits CONFIGURATION_ERROR on a usage error instead of argparse's 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(int(ExitCode.CONFIGURATION_ERROR), f"{self.prog}: error: {message}\n")


def _top_parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog="workbench",
        description="dbt Workbench: the Scout Retail medallion pipeline.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n"
        + "\n".join(f"  {name:<12} {summary}" for name, (_, summary) in COMMANDS.items()),
    )
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND")
    return parser


def record_exit_code(code: int, env: dict[str, str] | None = None) -> None:
    """Write the exit code for Argo's `exit_code` output when WORKBENCH_OUTPUTS_DIR is set."""
    directory = (os.environ if env is None else env).get(OUTPUTS_DIR_ENV, "").strip()
    if not directory:
        return
    try:
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, EXIT_CODE_OUTPUT), "w", encoding="utf-8") as out:
            out.write(str(code))
    except OSError as exc:  # an unwritable volume must not change the exit code
        structlog.get_logger("workbench").warning("exit_code_write_failed", error=str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    code = int(ExitCode.RUNTIME_ERROR)
    try:
        code = _dispatch(argv)
        return code
    except SystemExit as exc:  # argparse: a usage error (3) or --help (0)
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        raise
    finally:
        record_exit_code(code)


def _dispatch(argv: Sequence[str] | None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        _top_parser().parse_args(args[:1] or ["--help"])
        return int(ExitCode.CONFIGURATION_ERROR)
    name, rest = args[0], args[1:]
    configure_logging()
    lacking = missing_extra(name)
    if lacking is not None:
        extra, module_name = lacking
        structlog.get_logger("workbench").error(
            "optional_extra_missing",
            command=f"workbench {name}",
            extra=extra,
            missing_module=module_name,
            hint=f"pip install 'dbt-workbench[{extra}]'; in a clone: make setup (every extra)",
        )
        return int(ExitCode.CONFIGURATION_ERROR)
    parser = UsageParser(prog=f"workbench {name}", description=COMMANDS[name][1])
    try:
        module = importlib.import_module(COMMANDS[name][0])
        module.add_arguments(parser)
    except Exception as exc:
        # A broken image (a module or dependency that does not import): a retry runs the same
        # image and fails the same way, and exit 1 would read as a failed model.
        structlog.get_logger("workbench").exception(
            "command_unavailable", command=f"workbench {name}", error=str(exc)
        )
        return int(ExitCode.CONFIGURATION_ERROR)
    default_format = getattr(module, "DEFAULT_LOG_FORMAT", "auto")
    add_log_format_argument(parser, default_format)
    parsed = parser.parse_args(rest)
    try:
        parsed.log_format = resolve_log_format(
            parsed.log_format, os.environ, sys.stderr, default=default_format
        )
    except ValueError as exc:
        parser.error(str(exc))
    configure_logging(json=parsed.log_format == "json")
    try:
        code: int = module.execute(parsed)
    except Exception:
        structlog.get_logger("workbench").exception("unexpected_error", command=name)
        return int(ExitCode.RUNTIME_ERROR)
    return code


if __name__ == "__main__":
    sys.exit(main())
