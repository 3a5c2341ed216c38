"""A generator of transaction records with a known fate, for the property-based tests.

Each generated record is either valid or carries exactly one defect, so the place it must end
up in (silver, or rejected with that primary reason) follows from the contract alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from tests.reliability.corpus.build import PRODUCTS

CATEGORY_VARIANTS = {
    "Beverages": ["Beverages", " beverages", "DRINKS", "softdrinks "],
    "Snacks": ["Snacks", "chips", " CHIPS "],
    "Instant Noodles": ["Instant Noodles", "noodles", "instant  noodles"],
    "Personal Care": ["Personal Care", "toiletries", "PERSONAL CARE"],
}
PAYMENTS = ["cash", "gcash", "maya", "card", "GCash ", " CARD", "Maya"]
STATUSES = ["completed", "refunded", "voided", " COMPLETED", "Refunded "]
DEFECTS = [
    None,
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
]

# Free text as producers send it: any Unicode except surrogates and NUL (jsonb cannot hold
# NUL), trimmed non-blank so the contract's blank = missing rule does not apply.
free_text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=40,
).filter(lambda s: s.strip(" \t\r\n") == s and s != "")


@dataclass(frozen=True)
class Generated:
    record: dict[str, Any]
    outcome: str  # silver | rejected
    reason: str | None

    def line(self) -> bytes:
        return json.dumps(self.record, ensure_ascii=False).encode() + b"\n"


@st.composite
def records(draw: st.DrawFn, transaction_id: str) -> Generated:
    product = draw(st.sampled_from(PRODUCTS))
    category = str(product["category"])
    quantity = draw(st.integers(min_value=1, max_value=50))
    unit_price = Decimal(str(product["unit_price"]))
    amount = unit_price * quantity
    day = date(2023, 11, 27) + timedelta(days=draw(st.integers(0, 700)))
    as_string = draw(st.booleans())
    record: dict[str, Any] = {
        "transaction_id": transaction_id,
        "transaction_date": day.isoformat(),
        "store_id": draw(free_text),
        "product_id": product["product_id"],
        "basket_id": draw(free_text),
        "category": draw(st.sampled_from(CATEGORY_VARIANTS[category])),
        "quantity": f" {quantity} " if as_string else quantity,
        "unit_price": f"{unit_price:.2f}" if as_string else float(unit_price),
        "amount": f"{amount:.2f}" if as_string else float(amount),
        "payment_method": draw(st.sampled_from(PAYMENTS)),
        "status": draw(st.sampled_from(STATUSES)),
    }
    if draw(st.booleans()):
        record["customer_id"] = draw(free_text)
    defect = draw(st.sampled_from(DEFECTS))
    _apply(record, defect, draw)
    return Generated(record, "silver" if defect is None else "rejected", defect)


def _apply(record: dict[str, Any], defect: str | None, draw: st.DrawFn) -> None:
    if defect == "missing_transaction_id":
        record["transaction_id"] = draw(st.sampled_from([None, "", "  "]))
    elif defect == "invalid_type":
        field, value = draw(
            st.sampled_from(
                [
                    ("quantity", "two"),
                    ("quantity", [1]),
                    ("amount", "12,50"),
                    ("unit_price", {"v": 1}),
                    ("transaction_date", "2024/01/02"),
                    ("transaction_date", "2023-02-29"),
                ]
            )
        )
        record[field] = value
    elif defect == "missing_required_field":
        field = draw(st.sampled_from(["store_id", "basket_id", "product_id", "status"]))
        if draw(st.booleans()):
            del record[field]
        else:
            record[field] = " "
    elif defect == "invalid_enum":
        field = draw(st.sampled_from(["payment_method", "status"]))
        record[field] = draw(st.sampled_from(["bitcoin", "pending", "gcash2", "comp leted"]))
    elif defect == "unknown_category":
        record["category"] = draw(st.sampled_from(["Electronics", "snack", "beverage s"]))
    elif defect == "non_positive_amount":
        record["quantity"], record["amount"] = 0, 0
    elif defect == "future_date":
        record["transaction_date"] = (date.today() + timedelta(days=400)).isoformat()
    elif defect == "before_earliest_date":
        record["transaction_date"] = draw(st.sampled_from(["0001-01-01", "1999-12-31"]))
    elif defect == "unknown_product":
        record["product_id"] = "NOPE-" + record["product_id"]
    elif defect == "amount_mismatch":
        record["amount"] = f"{Decimal(str(record['amount']).strip()) + Decimal('0.06'):.2f}"
