"""The injected anomalies: a whole ISO week x category whose volume is multiplied by a factor.

Rules (common contract): about two per category over two years, never in the first 10 weeks
(the detector needs previous weeks), at least 12 weeks apart within a category (so one never sits
in the 8-week baseline of the next). Depends only on seed, start and weeks, not on volume.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from workbench.sample_data.catalog import CATEGORIES
from workbench.sample_data.options import seeded

FIRST_ALLOWED_WEEK = 10
MIN_WEEKS_APART = 12
SPIKE_FACTORS = (3.0, 4.0)
DROP_FACTORS = (0.10, 0.25)


@dataclass(frozen=True)
class Anomaly:
    category_index: int
    week: int  # 0-based week of the data window
    kind: str  # spike | drop
    factor: float


def plan_anomalies(seed: int, weeks: int) -> list[Anomaly]:
    rng = seeded(seed, "anomalies")
    room = weeks - FIRST_ALLOWED_WEEK
    per_category = max(1, round(weeks / 52)) if room > 0 else 0
    while per_category > 1 and room <= (per_category - 1) * MIN_WEEKS_APART:
        per_category -= 1
    plan: list[Anomaly] = []
    for index in range(len(CATEGORIES)):
        for week in _spaced_weeks(rng, per_category, weeks):
            if rng.random() < 0.5:
                kind, factor = "spike", round(rng.uniform(*SPIKE_FACTORS), 2)
            else:
                kind, factor = "drop", round(rng.uniform(*DROP_FACTORS), 2)
            plan.append(Anomaly(index, week, kind, factor))
    return plan


def _spaced_weeks(rng: random.Random, count: int, weeks: int) -> list[int]:
    """`count` weeks in [FIRST_ALLOWED_WEEK, weeks) pairwise >= MIN_WEEKS_APART apart,
    uniform over all such choices (draw gaps in the compressed range, then expand)."""
    if count == 0:
        return []
    free = weeks - FIRST_ALLOWED_WEEK - (count - 1) * MIN_WEEKS_APART
    picks = sorted(rng.sample(range(free), count))
    return [FIRST_ALLOWED_WEEK + p + i * MIN_WEEKS_APART for i, p in enumerate(picks)]


def factor_table(plan: list[Anomaly], weeks: int) -> list[list[float]]:
    """[category][week] -> volume multiplier (1.0 where nothing is injected)."""
    table = [[1.0] * weeks for _ in CATEGORIES]
    for anomaly in plan:
        table[anomaly.category_index][anomaly.week] = anomaly.factor
    return table


def write_anomalies_csv(path: Path, plan: list[Anomaly], start: date) -> None:
    rows = sorted(
        (CATEGORIES[a.category_index].name, start + timedelta(weeks=a.week), a.kind, a.factor)
        for a in plan
    )
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["category", "week_start", "kind", "factor"])
        for category, week_start, kind, factor in rows:
            writer.writerow([category, week_start.isoformat(), kind, f"{factor:.2f}"])
