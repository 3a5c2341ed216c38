"""`workbench ingest PATH... --entity transactions|products` (or `--sources FILE`): landing
files into schema raw."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import structlog

from workbench.contract import ENTITIES, SOURCES, ExitCode

log = structlog.get_logger("workbench.ingest")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="file, directory (its <entity>* files), glob, s3://bucket/key-prefix-or-glob, or "
        "gdrive://<folder id>[/<glob>]",
    )
    parser.add_argument("--entity", choices=ENTITIES, help="required with PATHs")
    parser.add_argument(
        "--sources",
        metavar="FILE",
        default=None,
        help="instead of PATHs: a YAML/JSON list of {uri, entity[, source]}, each pulled "
        "whatever happens to the others; exits with the most serious outcome",
    )
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default=None,
        help="producer channel stored in raw.*.source (default: gdrive for Drive, else the file "
        "format, csv or jsonl)",
    )
    parser.add_argument("--batch-id", default=None, help="default: UTC time + random suffix")


def execute(args: argparse.Namespace) -> int:
    from workbench.observability.logging import ensure_logging_configured

    ensure_logging_configured()
    batch_id = args.batch_id or (f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")
    if args.sources is not None:
        if args.paths or args.entity or args.source:
            return _usage(
                "--sources FILE replaces PATHs, --entity and --source (set them per source)"
            )
        return _pull(args.sources, batch_id)
    if not args.paths or args.entity is None:
        return _usage("give PATHs and --entity, or --sources FILE")
    return _ingest(args, batch_id)


def _usage(message: str) -> int:
    sys.stderr.write(f"workbench ingest: error: {message}\n")
    return int(ExitCode.CONFIGURATION_ERROR)


def _ingest(args: argparse.Namespace, batch_id: str) -> int:
    from workbench.ingest.pulls import outcome_of
    from workbench.ingest.run import IngestError, ingest
    from workbench.observability.ingest_metrics import SourceOutcome, push_ingest_outcomes

    uri = " ".join(args.paths)
    try:
        totals = ingest(
            args.paths,
            entity=args.entity,
            source=args.source,
            batch_id=batch_id,
            progress=sys.stderr.isatty(),
            env=os.environ,
        )
    except IngestError as error:
        log.error("ingest.failed", entity=args.entity, batch_id=batch_id, error=str(error))
        push_ingest_outcomes([SourceOutcome(uri, args.entity, int(error.exit_code))], args.entity)
        return int(error.exit_code)
    summary: dict[str, Any] = dict(totals)
    code = ExitCode.FAILURE if totals["failed_files"] else ExitCode.SUCCESS
    emit = log.error if code else log.info
    emit("ingest.done", entity=args.entity, batch_id=batch_id, **summary)
    push_ingest_outcomes([outcome_of(uri, args.entity, code, totals)], args.entity)
    return int(code)


def _pull(path: str, batch_id: str) -> int:
    from workbench.config import ConfigError
    from workbench.ingest.pulls import pull_all, read_pulls, worst
    from workbench.observability.ingest_metrics import push_ingest_outcomes

    try:
        pulls = read_pulls(path)
    except ConfigError as error:
        log.error("ingest.failed", sources=path, batch_id=batch_id, error=str(error))
        return int(ExitCode.CONFIGURATION_ERROR)
    outcomes = pull_all(pulls, batch_id=batch_id, progress=sys.stderr.isatty(), env=os.environ)
    push_ingest_outcomes(outcomes, "sources")
    code = worst([o.exit_code for o in outcomes])
    by_code = {
        str(c): sum(o.exit_code == c for o in outcomes) for c in {o.exit_code for o in outcomes}
    }
    emit = log.error if code else log.info
    emit(
        "ingest.sources_done",
        sources=path,
        batch_id=batch_id,
        exit_code=int(code),
        by_exit_code=by_code,
    )
    return int(code)
