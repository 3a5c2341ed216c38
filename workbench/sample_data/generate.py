"""Write a sample data set: products, chunked transactions, anomalies.csv, expected.json.

Streams one day at a time; memory holds one day of sales plus a few days of pending
corrections, whatever the number of transactions. Every random choice comes from
`random.Random` streams seeded from `--seed` and a purpose name, so the same options give the
same bytes, and the valid sales do not change when only the bad/duplicate shares do.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbench.sample_data.anomalies import factor_table, plan_anomalies, write_anomalies_csv
from workbench.sample_data.catalog import (
    PRODUCT_FIELDS,
    build_products,
    product_records,
    store_weights,
)
from workbench.sample_data.defects import UNPARSEABLE_KINDS, DefectMaker, unparseable_line
from workbench.sample_data.demand import daily_shapes
from workbench.sample_data.formats import csv_record_line, jsonl_line
from workbench.sample_data.options import SampleOptions, seeded
from workbench.sample_data.sales import TRANSACTION_FIELDS, Sale, SalesGenerator, timestamp_text
from workbench.sample_data.tally import Tally
from workbench.sample_data.writers import ChunkedWriter

# Duplicate kinds, rotated: how a transaction id comes to have several versions.
DUPLICATE_KINDS = ("correction", "resend", "bad_then_fixed", "correction", "two_corrections")
CUSTOMERS_PER_STORE = 250
Render = Callable[[dict[str, object]], str]


@dataclass(frozen=True)
class Written:
    tally: Tally
    transaction_files: list[Path]
    products_file: Path


def generate(options: SampleOptions) -> Written:
    out = options.out
    out.mkdir(parents=True, exist_ok=True)
    _remove_stale_chunks(out)
    tally = Tally()
    seed = options.seed
    products = build_products(options.products, seeded(seed, "products"))
    products_file = out / f"products.{options.format}"
    with _writer(out, lambda _n: products_file.name, 10**12, PRODUCT_FIELDS, options) as writer:
        render = _renderer(options.format, PRODUCT_FIELDS)
        for record in product_records(products, options.start, seeded(seed, "catalog")):
            writer.write_lines([render(record)])
        tally.products_records = writer.records

    plan = plan_anomalies(seed, options.weeks)
    write_anomalies_csv(out / "anomalies.csv", plan, options.start)

    sales = SalesGenerator(
        transactions=options.transactions,
        start=options.start,
        products=products,
        store_weights=store_weights(options.stores, seeded(seed, "stores")),
        shapes=daily_shapes(options.start, options.days, seed, factor_table(plan, options.weeks)),
        customers=options.stores * CUSTOMERS_PER_STORE,
        rng=seeded(seed, "sales"),
    )
    with _writer(
        out,
        lambda n: f"transactions-{n:04d}.{options.format}",
        options.chunk_rows,
        TRANSACTION_FIELDS,
        options,
    ) as writer:
        _write_transactions(options, sales, writer, tally)
        tally.transactions_records = writer.records
        files = list(writer.files)

    (out / "expected.json").write_text(json.dumps(tally.expected(), indent=2) + "\n")
    return Written(tally, files, products_file)


def _write_transactions(
    options: SampleOptions, sales: SalesGenerator, writer: ChunkedWriter, tally: Tally
) -> None:
    rng = seeded(options.seed, "defects")
    bad_ids = iter(range(1, 10**12))
    defects = DefectMaker(rng, lambda: f"TX{next(bad_ids):08d}")
    render = _renderer(options.format, TRANSACTION_FIELDS)
    render_sale = Sale.csv if options.format == "csv" else Sale.jsonl
    pending: defaultdict[int, list[dict[str, object]]] = defaultdict(list)
    unparseable_target = (
        UNPARSEABLE_KINDS + round(options.transactions * options.bad_share / 100)
        if options.bad_share > 0
        else 0
    )
    unparseable_step = unparseable_target / options.transactions
    bad_share, duplicate_share = options.bad_share, options.duplicate_share
    bad_due = duplicate_due = unparseable_due = 0.0
    duplicates = 0
    last: Sale | None = None
    lines: list[str] = []

    def emit_unparseable(sale: Sale) -> None:
        writer.write_lines(lines)
        lines.clear()
        kind = tally.unparseable_lines % UNPARSEABLE_KINDS
        writer.write_bytes(unparseable_line(kind, sale, options.format))
        tally.unparseable_lines += 1

    for day, day_sales in enumerate(sales.days()):
        for sale in day_sales:
            last = sale
            duplicate_due += duplicate_share
            if duplicate_due >= 1.0:
                duplicate_due -= 1.0
                kind = DUPLICATE_KINDS[duplicates % len(DUPLICATE_KINDS)]
                duplicates += 1
                if kind == "bad_then_fixed":
                    reason = ("amount_mismatch", "invalid_enum")[duplicates % 2]
                    bad = defects.make(reason, sale, keep_id=True)
                    bad["updated_at"] = timestamp_text(sale.transaction_date, sale.second)
                    sale.updated_at = timestamp_text(sale.transaction_date, sale.second + 900)
                    lines.append(render(bad))
                    tally.rejected_by_reason[reason] += 1
                elif kind == "resend":
                    pending[day].append(sale.record())
                    tally.superseded += 1
                elif kind == "correction":
                    days_later = 1 + rng.randrange(3)
                    pending[day + days_later].append(defects.correction(sale, days_later))
                    tally.superseded += 1
                else:  # two_corrections
                    pending[day + 1].append(defects.correction(sale, 1))
                    pending[day + 2].append(defects.correction(sale, 2))
                    tally.superseded += 2
            lines.append(render_sale(sale))
            tally.valid_transactions += 1

            bad_due += bad_share
            while bad_due >= 1.0:
                bad_due -= 1.0
                reason, record = defects.next_bad(sale)
                lines.append(render(record))
                tally.rejected_by_reason[reason] += 1

            unparseable_due += unparseable_step
            if unparseable_due >= 1.0 and tally.unparseable_lines < unparseable_target:
                unparseable_due -= 1.0
                emit_unparseable(sale)
        lines.extend(render(record) for record in pending.pop(day, []))
        writer.write_lines(lines)
        lines.clear()
    for day in sorted(pending):
        lines.extend(render(record) for record in pending.pop(day))
    writer.write_lines(lines)
    lines.clear()
    while last is not None and tally.unparseable_lines < unparseable_target:
        emit_unparseable(last)


def _renderer(fmt: str, fields: tuple[str, ...]) -> Render:
    if fmt == "csv":
        return lambda record: csv_record_line(record, fields)
    return jsonl_line


def _writer(
    out: Path,
    name_for: Callable[[int], str],
    chunk_rows: int,
    fields: tuple[str, ...],
    options: SampleOptions,
) -> ChunkedWriter:
    return ChunkedWriter(out, name_for, chunk_rows, fields if options.format == "csv" else None)


def _remove_stale_chunks(out: Path) -> None:
    """Chunks of an earlier, larger run would otherwise be picked up by a glob."""
    for pattern in (
        "transactions-[0-9][0-9][0-9][0-9].jsonl",
        "transactions-[0-9][0-9][0-9][0-9].csv",
        "products.jsonl",
        "products.csv",
    ):
        for stale in out.glob(pattern):
            stale.unlink()
