"""Bad records: a valid record with exactly one defect, so silver's primary rejection reason
(the first that applies, in the contract's order) is known in advance. Also the lines ingest
cannot parse at all (they land in raw.ingest_errors, never in bronze)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

from workbench.contract import REJECTION_REASONS
from workbench.sample_data.formats import csv_line, csv_text, jsonl_line
from workbench.sample_data.money import cents_json, cents_text
from workbench.sample_data.sales import TRANSACTION_FIELDS, Sale, timestamp_text

REQUIRED_FIELDS = (
    "transaction_date",
    "store_id",
    "product_id",
    "basket_id",
    "quantity",
    "unit_price",
    "amount",
    "payment_method",
    "status",
)
UNPARSEABLE_KINDS = 4


class DefectMaker:
    """Turns valid sales into bad records, rotating reasons and, within a reason, variants so
    a handful of bad records already covers every kind."""

    def __init__(self, rng: random.Random, new_id: Callable[[], str]) -> None:
        self._rng = rng
        self._new_id = new_id
        self._next_reason = 0
        self._variant = dict.fromkeys(REJECTION_REASONS, 0)
        self._unknown_products = 0

    def next_bad(self, sale: Sale) -> tuple[str, dict[str, object]]:
        reason = REJECTION_REASONS[self._next_reason % len(REJECTION_REASONS)]
        self._next_reason += 1
        return reason, self.make(reason, sale, keep_id=False)

    def make(self, reason: str, sale: Sale, *, keep_id: bool) -> dict[str, object]:
        record = sale.record()
        if not keep_id:
            record["transaction_id"] = self._new_id()
        variant = self._variant[reason]
        self._variant[reason] = variant + 1
        getattr(self, f"_{reason}")(record, sale, variant)
        return record

    def _missing_transaction_id(self, record: dict[str, object], _sale: Sale, v: int) -> None:
        if v % 4 == 0:
            del record["transaction_id"]
        else:
            record["transaction_id"] = (None, "", "   ")[v % 4 - 1]

    def _invalid_type(self, record: dict[str, object], sale: Sale, v: int) -> None:
        kind = v % 4
        if kind == 0:
            record["quantity"] = "two"
        elif kind == 1:
            record["amount"] = "abc"
        elif kind == 2:
            year, month, day = str(record["transaction_date"]).split("-")
            record["transaction_date"] = f"{day}/{month}/{year}"
        else:
            record["unit_price"] = "n/a"

    def _missing_required_field(self, record: dict[str, object], _sale: Sale, v: int) -> None:
        field = REQUIRED_FIELDS[v % len(REQUIRED_FIELDS)]
        style = (v // len(REQUIRED_FIELDS)) % 3
        if style == 0:
            del record[field]
        else:
            record[field] = None if style == 1 else " "

    def _invalid_enum(self, record: dict[str, object], _sale: Sale, v: int) -> None:
        if v % 2 == 0:
            record["payment_method"] = ("bitcoin", "PayPal", "credit ")[v // 2 % 3]
        else:
            record["status"] = ("pending", "Cancelled")[v // 2 % 2]

    def _unknown_category(self, record: dict[str, object], _sale: Sale, v: int) -> None:
        record["category"] = ("Electronics", "toys", "FROZEN FOODS", "misc")[v % 4]

    def _non_positive_amount(self, record: dict[str, object], sale: Sale, v: int) -> None:
        kind = v % 4
        price, quantity = sale.price_cents, sale.quantity
        if kind == 0:
            record["quantity"], record["amount"] = 0, 0
        elif kind == 1:
            record["quantity"] = -quantity
            record["amount"] = cents_json(-quantity * price)
        elif kind == 2:
            record["unit_price"], record["amount"] = "0.00", "0.00"
        else:
            record["unit_price"] = cents_text(-price)
            record["amount"] = cents_text(-quantity * price)

    def _future_date(self, record: dict[str, object], _sale: Sale, v: int) -> None:
        record["transaction_date"] = f"2099-{1 + v % 12:02d}-{1 + v % 28:02d}"

    def _before_earliest_date(self, record: dict[str, object], _sale: Sale, v: int) -> None:
        record["transaction_date"] = ("0001-01-01", "1999-12-31", "1970-01-01")[v % 3]

    def _unknown_product(self, record: dict[str, object], _sale: Sale, _v: int) -> None:
        self._unknown_products += 1
        record["product_id"] = f"PX{self._unknown_products:05d}"

    def _amount_mismatch(self, record: dict[str, object], sale: Sale, v: int) -> None:
        amount = sale.quantity * sale.price_cents
        kind = v % 3
        if kind == 0:
            record["amount"] = cents_json(amount * 10)  # a slipped decimal point
        elif kind == 1:
            record["amount"] = cents_text(amount + 100)
        else:
            record["quantity"] = sale.quantity + 1  # quantity corrected, amount not

    def correction(self, sale: Sale, days_later: int) -> dict[str, object]:
        """A later, valid version of the same transaction: payment and customer corrected,
        amounts untouched (so weekly revenue stays what the demand shape says)."""
        rng = self._rng
        record = sale.record()
        record["payment_method"] = rng.choice(("cash", "gcash", "Maya", "card "))
        record.setdefault("customer_id", f"C{rng.randrange(1, 10**6):07d}")
        record["updated_at"] = timestamp_text(
            sale.transaction_date,
            sale.second + days_later * 86400 + rng.randrange(0, 4 * 3600),
        )
        return record


def unparseable_line(kind: int, sale: Sale, fmt: str) -> bytes:
    """A line ingest must refuse, of kind 0..3 (see UNPARSEABLE_KINDS)."""
    record = sale.record()
    if fmt == "csv":
        values = [csv_text(record.get(f)) for f in TRANSACTION_FIELDS]
        if kind == 0:
            return csv_line(values[:6]).encode()  # too few fields
        if kind == 1:
            return csv_line([*values, "EXTRA", "FIELDS"]).encode()  # too many fields
        line = csv_line(values).encode()
        if kind == 2:
            return line.replace(b",", b",\xff", 1)  # not UTF-8
        return line.replace(b",", b",\x00", 1)  # a NUL byte
    line_text = jsonl_line(record)
    if kind == 0:
        return line_text[: len(line_text) // 2].encode() + b"\n"  # truncated JSON
    if kind == 1:
        return (json.dumps(list(record.values())) + "\n").encode()  # JSON, not an object
    if kind == 2:
        return line_text.encode().replace(b'"category":"', b'"category":"\xff', 1)
    record["basket_id"] = f"{record['basket_id']}\x00"  # JSON escape \u0000: no place in jsonb
    return jsonl_line(record).encode()
