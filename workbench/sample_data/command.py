"""`workbench sample-data`: write a deterministic Scout Retail sample data set."""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

import structlog

from workbench.contract import ExitCode
from workbench.sample_data.options import FORMATS, OptionsError, SampleOptions

log = structlog.get_logger("workbench.sample_data")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = SampleOptions(out=Path("."))
    parser.add_argument("--out", required=True, type=Path, help="directory to (re)write")
    parser.add_argument(
        "--transactions",
        type=int,
        default=defaults.transactions,
        help="valid transactions (distinct ids that reach silver), approximately",
    )
    parser.add_argument(
        "--products",
        type=int,
        default=defaults.products,
        help="distinct products (the file also holds later versions of some)",
    )
    parser.add_argument("--stores", type=int, default=defaults.stores, help="number of stores")
    parser.add_argument(
        "--bad-share",
        type=float,
        default=defaults.bad_share,
        help="bad records per valid transaction (0..0.5)",
    )
    parser.add_argument(
        "--duplicate-share",
        type=float,
        default=defaults.duplicate_share,
        help="transactions that get a resend or later correction (0..0.5)",
    )
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="same seed and options, same bytes"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default=defaults.format, help="file format (default jsonl)"
    )
    parser.add_argument(
        "--chunk-rows", type=int, default=defaults.chunk_rows, help="records per transactions file"
    )
    parser.add_argument(
        "--start",
        type=date.fromisoformat,
        default=defaults.start,
        help="first day, a Monday (YYYY-MM-DD)",
    )
    parser.add_argument("--weeks", type=int, default=defaults.weeks, help="whole ISO weeks of data")


def execute(args: argparse.Namespace) -> int:
    from workbench.observability.logging import ensure_logging_configured
    from workbench.sample_data.generate import generate

    ensure_logging_configured()
    try:
        options = SampleOptions(
            out=args.out,
            transactions=args.transactions,
            products=args.products,
            stores=args.stores,
            bad_share=args.bad_share,
            duplicate_share=args.duplicate_share,
            seed=args.seed,
            format=args.format,
            chunk_rows=args.chunk_rows,
            start=args.start,
            weeks=args.weeks,
        )
    except OptionsError as error:
        log.error("sample_data.bad_option", error=str(error))
        return int(ExitCode.CONFIGURATION_ERROR)
    started = time.perf_counter()
    try:
        written = generate(options)
    except OSError as error:
        log.error("sample_data.write_failed", error=str(error), out=str(options.out))
        return int(ExitCode.RUNTIME_ERROR)
    seconds = time.perf_counter() - started
    tally = written.tally
    log.info(
        "sample_data.written",
        out=str(options.out.resolve()),
        transaction_files=len(written.transaction_files),
        transactions_records=tally.transactions_records,
        valid_transactions=tally.valid_transactions,
        rejected=sum(tally.rejected_by_reason.values()),
        superseded=tally.superseded,
        unparseable_lines=tally.unparseable_lines,
        products_records=tally.products_records,
        seconds=round(seconds, 2),
        records_per_second=round(tally.transactions_records / seconds) if seconds else None,
    )
    return int(ExitCode.SUCCESS)
