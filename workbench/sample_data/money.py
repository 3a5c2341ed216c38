"""Peso amounts are integer centavos inside the generator: exact, so a valid record's
amount equals quantity x unit_price to the centavo."""

from __future__ import annotations


def cents_text(cents: int) -> str:
    """'136.50', '-4.25'."""
    sign = "-" if cents < 0 else ""
    value = abs(cents)
    return f"{sign}{value // 100}.{value % 100:02d}"


def cents_json(cents: int) -> float | int:
    """A JSON number: 136.5 (the shortest repr of cents/100 is the exact decimal)."""
    return cents // 100 if cents % 100 == 0 else cents / 100
