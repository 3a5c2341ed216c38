"""Summary statistics over repeated timings."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Series:
    """Repeated measurements of one quantity (seconds, megabytes, ...)."""

    values: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.values)

    @property
    def median(self) -> float:
        return float(statistics.median(self.values))

    @property
    def max(self) -> float:
        return max(self.values)

    def as_dict(self) -> dict[str, object]:
        return {
            "values": [round(v, 4) for v in self.values],
            "min": round(self.min, 4),
            "median": round(self.median, 4),
            "max": round(self.max, 4),
        }


def series(values: list[float]) -> Series:
    if not values:
        raise ValueError("a series needs at least one measurement")
    return Series(tuple(values))
