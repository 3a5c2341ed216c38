"""The world the transactions happen in: categories, stores, and the product catalog.

Category names and their producer spellings follow the common contract (the dbt seed
`category_mapping.csv` maps every spelling used here back to the standard name).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from workbench.sample_data.money import cents_json, cents_text


@dataclass(frozen=True)
class Category:
    name: str
    share: float  # of all transaction lines
    aliases: tuple[str, ...]  # renamed spellings producers send
    peak_day_of_year: int  # where the annual sinusoid peaks
    price_range: tuple[int, int]  # unit price in whole pesos
    brands: tuple[str, ...]
    items: tuple[str, ...]
    sizes: tuple[str, ...]


CATEGORIES: tuple[Category, ...] = (
    Category(
        "Beverages",
        0.20,
        ("drinks", "softdrinks"),
        125,
        (15, 90),
        ("Coca-Cola", "Pepsi", "Zesto", "C2", "Kopiko", "Nescafe", "Royal"),
        ("Regular", "Zero", "Lemon Tea", "Orange", "3in1 Coffee", "Apple"),
        ("237ml", "500ml", "1L", "1.5L", "sachet"),
    ),
    Category(
        "Snacks",
        0.15,
        ("chips",),
        350,
        (8, 60),
        ("Oishi", "Jack n Jill", "Piattos", "Nova", "Rebisco", "Boy Bawang"),
        ("Cheese", "Barbecue", "Sour Cream", "Garlic", "Chocolate"),
        ("25g", "40g", "85g", "150g"),
    ),
    Category(
        "Instant Noodles",
        0.12,
        ("noodles",),
        220,
        (9, 35),
        ("Lucky Me", "Nissin", "Payless", "Quickchow"),
        ("Pancit Canton", "Beef Mami", "Chicken Mami", "Seafood", "Spicy"),
        ("55g", "60g", "70g", "cup"),
    ),
    Category(
        "Canned Goods",
        0.09,
        ("canned",),
        355,
        (20, 120),
        ("Century Tuna", "Argentina", "555", "Ligo", "Purefoods", "Mega"),
        ("Flakes in Oil", "Corned Beef", "Sardines", "Meat Loaf", "Vienna Sausage"),
        ("155g", "175g", "260g", "380g"),
    ),
    Category(
        "Dairy",
        0.09,
        ("milk",),
        160,
        (12, 150),
        ("Alaska", "Bear Brand", "Nestle", "Eden", "Magnolia"),
        ("Evaporated", "Condensed", "Powdered", "Cheese", "Fresh Milk"),
        ("33g", "150ml", "300ml", "370ml", "1L"),
    ),
    Category(
        "Personal Care",
        0.08,
        ("toiletries",),
        140,
        (8, 180),
        ("Safeguard", "Palmolive", "Colgate", "Head and Shoulders", "Creamsilk"),
        ("Soap", "Shampoo", "Toothpaste", "Conditioner", "Lotion"),
        ("sachet", "60g", "90ml", "180ml"),
    ),
    Category(
        "Household",
        0.07,
        ("cleaning",),
        330,
        (8, 200),
        ("Surf", "Tide", "Joy", "Zonrox", "Downy", "Ariel"),
        ("Powder Detergent", "Dishwashing Liquid", "Bleach", "Fabric Conditioner"),
        ("sachet", "250ml", "500ml", "1kg"),
    ),
    Category(
        "Condiments",
        0.08,
        ("sauces",),
        345,
        (10, 80),
        ("Datu Puti", "Silver Swan", "UFC", "Mama Sitas", "Knorr"),
        ("Soy Sauce", "Vinegar", "Banana Ketchup", "Oyster Sauce", "Seasoning"),
        ("200ml", "385ml", "1L", "8g"),
    ),
    Category(
        "Bakery",
        0.07,
        ("bread",),
        10,
        (5, 90),
        ("Gardenia", "Marby", "Skyflakes", "Fita", "Lemon Square"),
        ("Pandesal", "Loaf Bread", "Crackers", "Ensaymada", "Cupcake"),
        ("pack", "400g", "600g", "10pcs"),
    ),
    Category(
        "Tobacco",
        0.05,
        ("cigarettes",),
        60,
        (6, 180),
        ("Marlboro", "Fortune", "Hope", "Winston", "Mighty"),
        ("Red", "Lights", "Menthol", "Gold"),
        ("stick", "pack of 20"),
    ),
)

PRODUCT_FIELDS = (
    "product_id",
    "product_name",
    "brand",
    "category",
    "unit_price",
    "is_active",
    "updated_at",
)


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    brand: str
    category_index: int
    price_cents: int
    popularity: float
    is_active: bool


def product_id(number: int) -> str:
    return f"P{number:05d}"


def store_id(number: int) -> str:
    return f"S{number:03d}"


def build_products(count: int, rng: random.Random) -> list[Product]:
    """`count` distinct products spread over the categories by their share."""
    per_category = _allocate(count, [c.share for c in CATEGORIES], minimum=1)
    products: list[Product] = []
    for index, (category, n) in enumerate(zip(CATEGORIES, per_category, strict=True)):
        low, high = category.price_range
        for rank in range(1, n + 1):
            brand = rng.choice(category.brands)
            name = f"{brand} {rng.choice(category.items)} {rng.choice(category.sizes)}"
            pesos = low * (high / low) ** rng.random()
            cents = max(100, round(pesos * 4) * 25)  # prices end in .00/.25/.50/.75
            products.append(
                Product(
                    product_id=product_id(len(products) + 1),
                    name=name,
                    brand=brand,
                    category_index=index,
                    price_cents=cents,
                    popularity=1.0 / rank**0.8,
                    # the most popular product of a category always sells
                    is_active=rank == 1 or rng.random() >= 0.03,
                )
            )
    return products


def store_weights(count: int, rng: random.Random) -> list[float]:
    """Store sizes: a few big supermarkets, many small sari-sari stores."""
    return [rng.lognormvariate(0.0, 0.6) for _ in range(count)]


def _allocate(total: int, shares: list[float], minimum: int = 0) -> list[int]:
    """Largest-remainder split of `total` by `shares`, each part at least `minimum`."""
    spare = total - minimum * len(shares)
    exact = [spare * s / sum(shares) for s in shares]
    parts = [int(x) for x in exact]
    order = sorted(range(len(shares)), key=lambda i: (parts[i] - exact[i], i))
    for i in order[: spare - sum(parts)]:
        parts[i] += 1
    return [p + minimum for p in parts]


def allocate(total: int, shares: list[float]) -> list[int]:
    return _allocate(total, shares)


def product_records(
    products: list[Product], start: date, rng: random.Random
) -> Iterator[dict[str, object]]:
    """The catalog as producers send it: one record per product, then later versions of
    some products (messy casing/whitespace, a renamed category, a later updated_at)."""
    catalog_time = datetime(start.year, start.month, start.day, 9, 0) - timedelta(days=400)
    for product in products:
        stamp = catalog_time + timedelta(minutes=rng.randrange(0, 360 * 24 * 60))
        yield _product_record(product, stamp, messy=False, rng=rng)
    for product in products:
        roll = rng.random()
        versions = 2 if roll < 0.01 else 1 if roll < 0.07 else 0
        stamp = datetime(start.year, start.month, start.day, 8, 0)
        for _ in range(versions):
            stamp += timedelta(days=rng.randrange(1, 300), minutes=rng.randrange(0, 600))
            yield _product_record(product, stamp, messy=True, rng=rng)


def _product_record(
    product: Product, stamp: datetime, *, messy: bool, rng: random.Random
) -> dict[str, object]:
    category = CATEGORIES[product.category_index]
    if messy:
        name = _messy_text(product.name, rng)
        brand = _messy_text(product.brand, rng)
        category_text = _messy_text(rng.choice(category.aliases), rng)
        active: object = rng.choice(("TRUE", "true", " True ")) if product.is_active else "false"
    else:
        name, brand = product.name, product.brand
        category_text = category.name if rng.random() < 0.8 else category.name.upper()
        active = product.is_active
    price: object = (
        cents_json(product.price_cents) if rng.random() < 0.6 else cents_text(product.price_cents)
    )
    return {
        "product_id": product.product_id,
        "product_name": name,
        "brand": brand,
        "category": category_text,
        "unit_price": price,
        "is_active": active,
        "updated_at": stamp.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
    }


def _messy_text(text: str, rng: random.Random) -> str:
    styled = rng.choice((text.lower(), text.upper(), text, text.replace(" ", "  ")))
    return rng.choice(("", " ", "  ")) + styled + rng.choice(("", " "))
