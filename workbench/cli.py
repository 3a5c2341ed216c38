"""The `workbench` console script: one entry point for pods and people.

Each subcommand lives in its own module exposing ``add_arguments(parser)`` and
``execute(args) -> int``; only the module of the command being run is imported, so
``workbench run`` does not pay for boto3 or the Kubernetes client.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from workbench.observability.logging import configure_logging

COMMANDS: dict[str, tuple[str, str]] = {
    "sample-data": ("workbench.sample_data.command", "generate deterministic Scout Retail data"),
    "ingest": ("workbench.ingest.command", "load CSV / JSON Lines files into raw landing"),
    "run": ("workbench.run.command", "dbt build one medallion layer (or all)"),
    "docs": ("workbench.docs.command", "generate dbt docs and optionally publish them to S3"),
    "demo": ("workbench.demo.command", "the whole pipeline on a laptop, embedded PostgreSQL"),
    "submit": ("workbench.submit.command", "submit a Workflow from the WorkflowTemplate"),
}


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="dbt Workbench: the Scout Retail medallion pipeline.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n"
        + "\n".join(f"  {name:<12} {summary}" for name, (_, summary) in COMMANDS.items()),
    )
    parser.add_argument("command", choices=sorted(COMMANDS), metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in COMMANDS:
        _top_parser().parse_args(args[:1] or ["--help"])
        return 2
    name, rest = args[0], args[1:]
    configure_logging()
    module = importlib.import_module(COMMANDS[name][0])
    parser = argparse.ArgumentParser(prog=f"workbench {name}", description=COMMANDS[name][1])
    module.add_arguments(parser)
    code: int = module.execute(parser.parse_args(rest))
    return code


if __name__ == "__main__":
    sys.exit(main())
