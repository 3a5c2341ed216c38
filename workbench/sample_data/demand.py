"""How much each category sells each day: the smooth shape the transactions follow.

revenue(day, category) is proportional to
    annual sinusoid (+-15 %, a peak day per category)
  x growth (~10 % a year)
  x weekday pattern (busier Fridays and Saturdays; sums out in weekly totals)
  x weekly jitter (+-25 %, below)
  x injected anomaly factor.

Why the weekly jitter is a golden-ratio (Weyl) sequence and not random noise: the detector
compares a week with the mean and sample stddev of only 8 previous weeks. With independent noise
that ratio is t-distributed with 7 degrees of freedom, so |z| >= 3 happens in ~2.5 % of ordinary
weeks (about 25 false alarms on 10 categories x 2 years, against ~20 injected anomalies); a pure
sinusoid with no noise also trips it just after each seasonal peak, where the 8-week window is
flat. A low-discrepancy sequence spreads any 8 consecutive weeks evenly over its range, so the
baseline stddev never collapses and ordinary weeks stay well inside |z| < 3, while the injected
x3-4 spikes and x0.1-0.25 drops stand out by far.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from workbench.sample_data.catalog import CATEGORIES
from workbench.sample_data.options import seeded

SEASONAL_AMPLITUDE = 0.15
ANNUAL_GROWTH = 0.10
WEEKLY_JITTER = 0.25
WEEKDAY_FACTORS = (0.93, 0.95, 0.97, 1.00, 1.06, 1.12, 0.97)  # Monday first
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def daily_shapes(
    start: date, days: int, seed: int, anomaly_factors: list[list[float]]
) -> list[list[float]]:
    """[category][day] -> relative revenue (unnormalised)."""
    rng = seeded(seed, "jitter")
    offsets = [rng.random() for _ in CATEGORIES]
    shapes: list[list[float]] = []
    for index, category in enumerate(CATEGORIES):
        row: list[float] = []
        for day in range(days):
            current = start + timedelta(days=day)
            week = day // 7
            doy = current.timetuple().tm_yday
            season = 1.0 + SEASONAL_AMPLITUDE * math.cos(
                2.0 * math.pi * (doy - category.peak_day_of_year) / 365.25
            )
            growth = (1.0 + ANNUAL_GROWTH) ** (day / 365.25)
            jitter = 1.0 + WEEKLY_JITTER * (2.0 * ((offsets[index] + week * _GOLDEN) % 1.0) - 1.0)
            row.append(
                season
                * growth
                * WEEKDAY_FACTORS[current.weekday()]
                * jitter
                * anomaly_factors[index][week]
            )
        shapes.append(row)
    return shapes
