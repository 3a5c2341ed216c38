"""Anomaly detection scored against the generator's ground truth."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

AnomalyKey = tuple[str, date]


@dataclass(frozen=True)
class AnomalyScore:
    injected: int
    flagged: int
    true_positives: int

    @property
    def recall(self) -> float:
        return self.true_positives / self.injected if self.injected else 1.0

    @property
    def precision(self) -> float:
        return self.true_positives / self.flagged if self.flagged else 1.0


def read_ground_truth(path: Path) -> set[AnomalyKey]:
    with path.open(newline="") as handle:
        return {
            (row["category"], date.fromisoformat(row["week_start"]))
            for row in csv.DictReader(handle)
        }


def score(injected: set[AnomalyKey], flagged: set[AnomalyKey]) -> AnomalyScore:
    return AnomalyScore(
        injected=len(injected), flagged=len(flagged), true_positives=len(injected & flagged)
    )
