"""`workbench ingest PATH... --entity transactions|products`: landing files into schema raw."""

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
        nargs="+",
        metavar="PATH",
        help="file, directory (its <entity>* files), glob, s3://bucket/key-prefix-or-glob, or "
        "gdrive://<folder id>[/<glob>]",
    )
    parser.add_argument("--entity", required=True, choices=ENTITIES)
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default=None,
        help="producer channel stored in raw.*.source (default: the file format, csv or jsonl)",
    )
    parser.add_argument("--batch-id", default=None, help="default: UTC time + random suffix")


def execute(args: argparse.Namespace) -> int:
    from workbench.observability.logging import ensure_logging_configured

    ensure_logging_configured()
    from workbench.ingest.run import IngestError, ingest

    batch_id = args.batch_id or (f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")
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
        return int(error.exit_code)
    summary: dict[str, Any] = dict(totals)
    if totals["failed_files"]:
        log.error("ingest.done", entity=args.entity, batch_id=batch_id, **summary)
        return int(ExitCode.FAILURE)
    log.info("ingest.done", entity=args.entity, batch_id=batch_id, **summary)
    return int(ExitCode.SUCCESS)
