"""Arrival-order scenarios for the property tests: the same records, landed in any order.

A scenario is a handful of sales, each in one to three versions (later updated_at wins), some
for products that are new (their catalog record is one of the events) and some versions
invalid on their own (a bad payment method: a rejection a later correction fixes). Hypothesis
permutes the events and cuts them into batches; one batch may commit late (its rows get
raw_ids before the next batch's, its commit comes after the next run).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal

from hypothesis import strategies as st

KNOWN_PRODUCT = {"product_id": "HP-001", "unit_price": Decimal("25.50"), "category": "Beverages"}


@dataclass(frozen=True)
class Event:
    entity: str  # transactions | products
    record: dict[str, object]


@dataclass(frozen=True)
class Scenario:
    batches: list[list[Event]]
    late_batch: int | None  # index of the batch that commits after the next batch's run


def _product(product_id: str) -> dict[str, object]:
    return {
        "product_id": product_id,
        "product_name": "late cola",
        "brand": "acme",
        "category": "drinks",
        "unit_price": "20.00",
        "is_active": True,
        "updated_at": "2024-03-01T00:00:00Z",
    }


def _version(transaction_id: str, product_id: str, price: Decimal, n: int, bad: bool) -> Event:
    quantity = n + 1
    record: dict[str, object] = {
        "transaction_id": transaction_id,
        "transaction_date": "2024-03-04",
        "store_id": "S1",
        "product_id": product_id,
        "basket_id": f"B-{transaction_id}",
        "category": "Beverages",
        "quantity": quantity,
        "unit_price": f"{price:.2f}",
        "amount": f"{price * quantity:.2f}",
        "payment_method": "bitcoin" if bad else "cash",
        "status": "completed",
        "updated_at": f"2024-03-0{4 + n}T00:00:00Z",
    }
    return Event("transactions", record)


@st.composite
def scenarios(draw: st.DrawFn, prefix: str) -> Scenario:
    events: list[Event] = []
    new_products = [f"{prefix}-NP{k}" for k in range(2)]
    events.extend(Event("products", _product(p)) for p in new_products)
    for i in range(draw(st.integers(min_value=2, max_value=4))):
        product = draw(st.sampled_from([str(KNOWN_PRODUCT["product_id"]), *new_products]))
        price = (
            KNOWN_PRODUCT["unit_price"] if product == KNOWN_PRODUCT["product_id"] else Decimal(20)
        )
        assert isinstance(price, Decimal)
        for n in range(draw(st.integers(min_value=1, max_value=3))):
            bad = draw(st.booleans())
            events.append(_version(f"{prefix}-T{i}", product, price, n, bad))
    order = draw(st.permutations(events))
    cuts = sorted(draw(st.sets(st.integers(1, len(order) - 1), max_size=2)))
    bounds = [0, *cuts, len(order)]
    batches = [list(order[a:b]) for a, b in itertools.pairwise(bounds)]
    late = draw(st.none() | st.integers(0, len(batches) - 2)) if len(batches) > 1 else None
    return Scenario(batches, late)
