"""Valid transactions, one day at a time: baskets of lines following the demand shape.

Each category's *completed* revenue follows a cumulative quota (the demand shape scaled so the
whole window holds about `transactions` lines): lines are drawn until the running revenue reaches
the running target. Weekly revenue then tracks the smooth shape to within about one line's value
instead of carrying sampling noise, which is what lets the 8-week z-score find the injected
anomalies without false alarms (see demand.py). Refunded and voided lines are added at a fixed
rate on top; they do not count as revenue.

Values are written the way producers send them: numbers sometimes as strings, enums in other
casing with stray whitespace, renamed categories. Every such spelling is one silver accepts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from workbench.sample_data.catalog import CATEGORIES, Product, allocate, store_id
from workbench.sample_data.money import cents_json, cents_text

TRANSACTION_FIELDS = (
    "transaction_id",
    "transaction_date",
    "store_id",
    "product_id",
    "basket_id",
    "category",
    "quantity",
    "unit_price",
    "amount",
    "payment_method",
    "status",
    "customer_id",
    "updated_at",
)
NON_COMPLETED_SHARE = 0.06
QUANTITIES = (1,) * 50 + (2,) * 25 + (3,) * 12 + (4,) * 6 + (5,) * 4 + (6,) * 3
# Dearer items sell in ones and twos: also keeps single lines small next to a week's revenue.
QUANTITIES_DEAR = (1,) * 80 + (2,) * 20
DEAR_CENTS = 6000
BASKET_SIZES = (1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6)
PAYMENT_SPELLINGS = {
    "cash": ("cash", "Cash", "CASH", " cash", "cash "),
    "gcash": ("gcash", "GCash ", "GCASH", "Gcash", " gcash"),
    "maya": ("maya", "Maya", " MAYA", "maya "),
    "card": ("card", "Card", "CARD ", " card"),
}
PAYMENT_TABLE = ("cash",) * 5 + ("gcash",) * 3 + ("maya", "card")
STATUS_SPELLINGS = {
    "completed": ("completed", "Completed", " COMPLETED", "completed ", "COMPLETED"),
    "refunded": ("refunded", "Refunded", "REFUNDED "),
    "voided": ("voided", "Voided", " VOIDED"),
}
_TABLE_SIZE = 4096
T = TypeVar("T")
_OPEN_SECONDS = 6 * 3600
_DAY_SECONDS = 16 * 3600


@dataclass(slots=True)
class Sale:
    """One valid transaction line: its values as written (messy spellings included) plus the
    clean numbers that defects and corrections start from."""

    transaction_id: str
    transaction_date: str
    store_id: str
    product_id: str
    basket_id: str
    category: str
    quantity_value: object  # as written: 3, "3" or " 3 "
    unit_price_value: object
    amount_value: object
    payment_method: str
    status: str
    customer_id: str | None
    updated_at: str | None
    quantity: int
    price_cents: int
    day: int
    second: int  # of the day, local time (+08:00)

    def record(self) -> dict[str, object]:
        record: dict[str, object] = {
            "transaction_id": self.transaction_id,
            "transaction_date": self.transaction_date,
            "store_id": self.store_id,
            "product_id": self.product_id,
            "basket_id": self.basket_id,
            "category": self.category,
            "quantity": self.quantity_value,
            "unit_price": self.unit_price_value,
            "amount": self.amount_value,
            "payment_method": self.payment_method,
            "status": self.status,
        }
        if self.customer_id is not None:
            record["customer_id"] = self.customer_id
        if self.updated_at is not None:
            record["updated_at"] = self.updated_at
        return record

    def jsonl(self) -> str:
        """The record as one JSON line, rendered directly: every value the generator writes for
        a valid sale is plain ASCII without quotes or backslashes, so no escaping is needed
        (this is ~5x faster than json.dumps and gives the same text as formats.jsonl_line)."""
        tail = ""
        if self.customer_id is not None:
            tail = f',"customer_id":"{self.customer_id}"'
        if self.updated_at is not None:
            tail += f',"updated_at":"{self.updated_at}"'
        return (
            f'{{"transaction_id":"{self.transaction_id}",'
            f'"transaction_date":"{self.transaction_date}","store_id":"{self.store_id}",'
            f'"product_id":"{self.product_id}","basket_id":"{self.basket_id}",'
            f'"category":"{self.category}","quantity":{_json(self.quantity_value)},'
            f'"unit_price":{_json(self.unit_price_value)},"amount":{_json(self.amount_value)},'
            f'"payment_method":"{self.payment_method}","status":"{self.status}"{tail}}}\n'
        )

    def csv(self) -> str:
        """The record as one CSV line in TRANSACTION_FIELDS order (no value needs quoting)."""
        return (
            f"{self.transaction_id},{self.transaction_date},{self.store_id},{self.product_id},"
            f"{self.basket_id},{self.category},{self.quantity_value},{self.unit_price_value},"
            f"{self.amount_value},{self.payment_method},{self.status},"
            f"{self.customer_id or ''},{self.updated_at or ''}\n"
        )


def _json(value: object) -> str:
    return f'"{value}"' if value.__class__ is str else str(value)


class SalesGenerator:
    def __init__(
        self,
        *,
        transactions: int,
        start: date,
        products: list[Product],
        store_weights: list[float],
        shapes: list[list[float]],
        customers: int,
        rng: random.Random,
    ) -> None:
        self._rng = rng
        self._start = start
        self._days = len(shapes[0])
        self._stores = _weighted_table(
            [store_id(i + 1) for i in range(len(store_weights))], store_weights
        )
        self._customers = customers
        self._product_tables: list[tuple[Product, ...]] = []
        mean_line_cents: list[float] = []
        for index in range(len(CATEGORIES)):
            sellable = [p for p in products if p.category_index == index and p.is_active]
            table = _weighted_table(sellable, [p.popularity for p in sellable])
            self._product_tables.append(table)
            line_cents = [p.price_cents * _mean(quantities_for(p.price_cents)) for p in table]
            mean_line_cents.append(sum(line_cents) / len(line_cents))
        lines = allocate(transactions, [c.share for c in CATEGORIES])
        self._daily_target: list[list[float]] = []
        for index, shape in enumerate(shapes):
            total = lines[index] * (1.0 - NON_COMPLETED_SHARE) * mean_line_cents[index]
            scale = total / sum(shape)
            self._daily_target.append([s * scale for s in shape])
        self._next_transaction = 0
        self._money_forms: dict[int, tuple[object, object, object]] = {}
        self._next_basket = 0

    def date_text(self, day: int) -> str:
        return (self._start + timedelta(days=day)).isoformat()

    def _remember(self, cents: int) -> tuple[object, object, object]:
        """The three ways producers write an amount: JSON number, string, padded string."""
        forms = (cents_json(cents), cents_text(cents), f" {cents_text(cents)}")
        self._money_forms[cents] = forms
        return forms

    def days(self) -> Iterator[list[Sale]]:
        revenue = [0.0] * len(CATEGORIES)
        target = [0.0] * len(CATEGORIES)
        pending_other = [0.0] * len(CATEGORIES)
        for day in range(self._days):
            lines: list[tuple[Product, int, str]] = []
            for index in range(len(CATEGORIES)):
                target[index] += self._daily_target[index][day]
                revenue[index], pending_other[index] = self._category_lines(
                    index, target[index], revenue[index], pending_other[index], lines
                )
            yield self._baskets(day, lines)

    def _category_lines(
        self,
        index: int,
        target: float,
        revenue: float,
        pending_other: float,
        out: list[tuple[Product, int, str]],
    ) -> tuple[float, float]:
        rnd = self._rng.random
        table = self._product_tables[index]
        size = len(table)
        other_per_line = NON_COMPLETED_SHARE / (1.0 - NON_COMPLETED_SHARE)
        while revenue < target:
            product = table[int(rnd() * size)]
            quantities = quantities_for(product.price_cents)
            quantity = quantities[int(rnd() * len(quantities))]
            revenue += quantity * product.price_cents
            out.append((product, quantity, "completed"))
            pending_other += other_per_line
            if pending_other >= 1.0:
                pending_other -= 1.0
                other = table[int(rnd() * size)]
                status = "refunded" if rnd() < 2 / 3 else "voided"
                others = quantities_for(other.price_cents)
                out.append((other, others[int(rnd() * len(others))], status))
        return revenue, pending_other

    def _baskets(self, day: int, lines: list[tuple[Product, int, str]]) -> list[Sale]:
        rng = self._rng
        rnd = rng.random
        rng.shuffle(lines)
        sizes: list[int] = []
        remaining = len(lines)
        while remaining > 0:
            size = min(remaining, BASKET_SIZES[int(rnd() * len(BASKET_SIZES))])
            sizes.append(size)
            remaining -= size
        seconds = sorted(_OPEN_SECONDS + int(rnd() * _DAY_SECONDS) for _ in sizes)
        date_text = self.date_text(day)
        stores, customers = self._stores, self._customers
        sales: list[Sale] = []
        append = sales.append
        position = 0
        for size, second in zip(sizes, seconds, strict=True):
            self._next_basket += 1
            basket = f"B{self._next_basket:08d}"
            store = stores[int(rnd() * len(stores))]
            customer = f"C{int(rnd() * customers) + 1:07d}" if rnd() < 0.6 else None
            payment = _spelling(PAYMENT_SPELLINGS[PAYMENT_TABLE[int(rnd() * 10)]], rnd())
            for product, quantity, status in lines[position : position + size]:
                category = CATEGORIES[product.category_index]
                pick = rnd()
                if pick < 0.6:
                    category_text = category.name
                elif pick < 0.8:
                    category_text = category.aliases[int(rnd() * len(category.aliases))]
                elif pick < 0.9:
                    category_text = category.name.lower()
                else:
                    category_text = f" {category.name.upper()} "
                self._next_transaction += 1
                price = product.price_cents
                forms = self._money_forms
                price_forms = forms.get(price) or self._remember(price)
                amount = quantity * price
                amount_forms = forms.get(amount) or self._remember(amount)
                roll = rnd()
                quantity_value: object = (
                    quantity if roll < 0.7 else str(quantity) if roll < 0.9 else f" {quantity} "
                )
                append(
                    Sale(
                        f"T{self._next_transaction:09d}",
                        date_text,
                        store,
                        product.product_id,
                        basket,
                        category_text,
                        quantity_value,
                        price_forms[_form(rnd())],
                        amount_forms[_form(rnd())],
                        payment,
                        _spelling(STATUS_SPELLINGS[status], rnd()),
                        customer,
                        date_text + _CLOCK[second + 60 + int(rnd() * 600)] if rnd() < 0.7 else None,
                        quantity,
                        price,
                        day,
                        second,
                    )
                )
            position += size
        return sales


def timestamp_text(date_text: str, second: int) -> str:
    """ISO timestamp in Manila time; `second` may run past midnight into later days."""
    day_offset, second = divmod(second, 86400)
    if day_offset:
        date_text = (date.fromisoformat(date_text) + timedelta(days=day_offset)).isoformat()
    return date_text + _CLOCK[second]


def _spelling(spellings: tuple[str, ...], roll: float) -> str:
    """The clean spelling 70 % of the time, otherwise one of the messy ones."""
    if roll < 0.7:
        return spellings[0]
    return spellings[1 + int((roll - 0.7) / 0.3 * (len(spellings) - 1))]


def quantities_for(price_cents: int) -> tuple[int, ...]:
    return QUANTITIES_DEAR if price_cents >= DEAR_CENTS else QUANTITIES


def _mean(values: tuple[int, ...]) -> float:
    return sum(values) / len(values)


def _form(roll: float) -> int:
    """Which money spelling: a JSON number 60 %, a string 30 %, a padded string 10 %."""
    return 0 if roll < 0.6 else 1 if roll < 0.9 else 2


def _clock_text(second: int) -> str:
    hours, rest = divmod(second, 3600)
    return f"T{hours:02d}:{rest // 60:02d}:{rest % 60:02d}+08:00"


# "THH:MM:SS+08:00" for every second of a day: formatting is the hot path of the generator.
_CLOCK = tuple(_clock_text(second) for second in range(86400))


def _weighted_table(items: list[T], weights: list[float]) -> tuple[T, ...]:
    """A lookup table where each item fills a share of slots proportional to its weight, so a
    weighted draw is one random() and an index (much faster than random.choices)."""
    counts = allocate(max(_TABLE_SIZE, 8 * len(items)), weights)
    table: list[T] = []
    for item, count in zip(items, counts, strict=True):
        table.extend([item] * count)
    return tuple(table) if table else tuple(items)
