"""The generated data judged by an independent Python reading of the silver and gold contract.

A small re-implementation of the common contract's rules (rejection reasons in order, dedup,
weekly z-scores) reads the files `workbench sample-data` wrote and must arrive at exactly the
counts in expected.json, and at the injected anomalies with >= 80 % recall and precision.
"""

from __future__ import annotations

import csv
import json
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from workbench.sample_data.generate import generate
from workbench.sample_data.options import SampleOptions

CATEGORY_KEYS = {
    **{
        name.lower(): name
        for name in (
            "Beverages",
            "Snacks",
            "Instant Noodles",
            "Canned Goods",
            "Dairy",
            "Personal Care",
            "Household",
            "Condiments",
            "Bakery",
            "Tobacco",
        )
    },
    "drinks": "Beverages",
    "softdrinks": "Beverages",
    "chips": "Snacks",
    "noodles": "Instant Noodles",
    "canned": "Canned Goods",
    "milk": "Dairy",
    "toiletries": "Personal Care",
    "cleaning": "Household",
    "sauces": "Condiments",
    "bread": "Bakery",
    "cigarettes": "Tobacco",
}
REQUIRED = (
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
_INT = re.compile(r"^[+-]?[0-9]{1,9}$")
_DEC = re.compile(r"^[+-]?([0-9]{1,12}(\.[0-9]*)?|\.[0-9]+)$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
TODAY = date(2026, 1, 1)  # any day after the data window and before 2099
EARLIEST = date(2000, 1, 1)  # the var earliest_business_date
STDDEV_FLOOR = 1.0  # the var anomaly_stddev_floor


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text.strip() or None


def _date(text: str | None) -> date | None:
    if text is None or not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@dataclass
class Judged:
    raw_index: int
    reasons: list[str]
    transaction_id: str | None
    updated_at: str | None
    transaction_date: date | None
    category: str | None
    amount: float | None
    status: str | None


def judge(index: int, payload: dict[str, Any], products: set[str]) -> Judged:
    t = {
        key: _text(payload, key) for key in (*REQUIRED, "transaction_id", "category", "updated_at")
    }
    day = _date(t["transaction_date"])
    quantity = int(t["quantity"]) if t["quantity"] and _INT.match(t["quantity"]) else None
    price = (
        round(float(t["unit_price"]), 2)
        if t["unit_price"] and _DEC.match(t["unit_price"])
        else None
    )
    amount = round(float(t["amount"]), 2) if t["amount"] and _DEC.match(t["amount"]) else None
    payment = t["payment_method"].lower() if t["payment_method"] else None
    status = t["status"].lower() if t["status"] else None
    category = CATEGORY_KEYS.get(" ".join((t["category"] or "").lower().split()))
    reasons = []
    if t["transaction_id"] is None:
        reasons.append("missing_transaction_id")
    if (
        (t["transaction_date"] and day is None)
        or (t["quantity"] and quantity is None)
        or (t["unit_price"] and price is None)
        or (t["amount"] and amount is None)
    ):
        reasons.append("invalid_type")
    if any(t[key] is None for key in REQUIRED):
        reasons.append("missing_required_field")
    if (payment and payment not in {"cash", "gcash", "maya", "card"}) or (
        status and status not in {"completed", "refunded", "voided"}
    ):
        reasons.append("invalid_enum")
    if category is None:
        reasons.append("unknown_category")
    if any(v is not None and v <= 0 for v in (quantity, price, amount)):
        reasons.append("non_positive_amount")
    if day is not None and day > TODAY:
        reasons.append("future_date")
    if day is not None and day < EARLIEST:
        reasons.append("before_earliest_date")
    if t["product_id"] is not None and t["product_id"] not in products:
        reasons.append("unknown_product")
    if None not in (quantity, price, amount) and abs(amount - quantity * price) > 0.05:  # type: ignore[operator]
        reasons.append("amount_mismatch")
    return Judged(
        index, reasons, t["transaction_id"], t["updated_at"], day, category, amount, status
    )


def read_records(path: Path) -> Iterator[dict[str, Any] | None]:
    """Each record of a generated file; None for a line ingest would refuse."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            for row in reader:
                text = ",".join(row)
                bad = (
                    len(row) != len(header)
                    or "\x00" in text
                    or any("\udc80" <= ch <= "\udcff" for ch in text)
                )
                yield None if bad else dict(zip(header, row, strict=True))
        return
    with path.open("rb") as handle:
        for raw in handle:
            try:
                value = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                yield None
                continue
            bad = not isinstance(value, dict) or "\\u0000" in raw.decode()
            yield None if bad else value


@dataclass
class Silver:
    winners: list[Judged]
    rejected: Counter[str]
    superseded: int
    unparseable: int
    bronze: int


def silver(out: Path) -> Silver:
    products = {p["product_id"].strip() for p in read_records(next(out.glob("products.*"))) if p}
    judged: list[Judged] = []
    unparseable = 0
    for path in sorted(out.glob("transactions-*")):
        for record in read_records(path):
            if record is None:
                unparseable += 1
            else:
                judged.append(judge(len(judged), record, products))
    versions: defaultdict[str, list[Judged]] = defaultdict(list)
    for j in judged:
        if not j.reasons:
            assert j.transaction_id is not None
            versions[j.transaction_id].append(j)
    return Silver(
        winners=[
            max(v, key=lambda j: (j.updated_at or "", j.raw_index)) for v in versions.values()
        ],
        rejected=Counter(j.reasons[0] for j in judged if j.reasons),
        superseded=sum(len(v) - 1 for v in versions.values()),
        unparseable=unparseable,
        bronze=len(judged),
    )


def flagged_weeks(winners: list[Judged], threshold: float = 3.0) -> set[tuple[str, date]]:
    """gold_category_trends per the contract: completed revenue per ISO week x category,
    zero-filled, z-score against the previous 8 weeks, at least 4 of them."""
    revenue: defaultdict[tuple[str, date], float] = defaultdict(float)
    weeks: set[date] = set()
    for w in winners:
        assert w.transaction_date is not None and w.category is not None
        week = w.transaction_date - timedelta(days=w.transaction_date.weekday())
        weeks.add(week)
        if w.status == "completed":
            revenue[(w.category, week)] += w.amount or 0.0
    first, last = min(weeks), max(weeks)
    span = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    flagged = set()
    for category in set(CATEGORY_KEYS.values()):
        series = [revenue.get((category, week), 0.0) for week in span]
        for i, week in enumerate(span):
            previous = series[max(0, i - 8) : i]
            if len(previous) < 4:
                continue
            sd = max(statistics.stdev(previous), STDDEV_FLOOR)
            if abs(series[i] - statistics.fmean(previous)) / sd >= threshold:
                flagged.add((category, week))
    return flagged


def ground_truth(out: Path) -> set[tuple[str, date]]:
    with (out / "anomalies.csv").open(newline="") as handle:
        return {
            (r["category"], date.fromisoformat(r["week_start"])) for r in csv.DictReader(handle)
        }


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_expected_json_matches_an_independent_reading_of_the_files(
    tmp_path: Path, fmt: str
) -> None:
    generate(
        SampleOptions(
            out=tmp_path,
            transactions=6000,
            products=120,
            stores=20,
            bad_share=0.05,
            duplicate_share=0.03,
            seed=3,
            format=fmt,
            chunk_rows=2500,
            weeks=30,
        )
    )
    expected = json.loads((tmp_path / "expected.json").read_text())
    result = silver(tmp_path)
    assert len(result.winners) == expected["valid_transactions"]
    assert dict(result.rejected) == expected["rejected_by_reason"]
    assert result.superseded == expected["superseded"]
    assert result.unparseable == expected["unparseable_lines"]
    assert result.bronze + result.unparseable == expected["transactions_records"]
    assert result.bronze == len(result.winners) + sum(result.rejected.values()) + result.superseded
    assert set(expected["rejected_by_reason"]) == set(REASONS_IN_ORDER)


REASONS_IN_ORDER = (
    "missing_transaction_id",
    "invalid_type",
    "missing_required_field",
    "invalid_enum",
    "unknown_category",
    "non_positive_amount",
    "future_date",
    "before_earliest_date",
    "unknown_product",
    "amount_mismatch",
)


def test_weekly_z_score_finds_the_injected_anomalies(tmp_path: Path) -> None:
    """The default demo size: >= 80 % of injected anomalies found, >= 80 % of flags real."""
    generate(SampleOptions(out=tmp_path, seed=7))
    injected = ground_truth(tmp_path)
    flagged = flagged_weeks(silver(tmp_path).winners)
    found = injected & flagged
    recall, precision = len(found) / len(injected), len(found) / len(flagged)
    print(
        f"anomalies: {len(found)}/{len(injected)} found, {len(flagged)} flagged, "
        f"recall={recall:.2f} precision={precision:.2f}"
    )
    assert len(injected) == 20
    assert recall >= 0.8
    assert precision >= 0.8
