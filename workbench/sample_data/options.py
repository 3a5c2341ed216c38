"""What `workbench sample-data` was asked for, validated once."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

FORMATS = ("jsonl", "csv")


class OptionsError(ValueError):
    """An option is out of range; the message names it and the allowed values."""


@dataclass(frozen=True)
class SampleOptions:
    out: Path
    transactions: int = 120_000
    products: int = 800
    stores: int = 200
    bad_share: float = 0.02
    duplicate_share: float = 0.01
    seed: int = 42
    format: str = "jsonl"
    chunk_rows: int = 500_000
    start: date = date(2023, 11, 27)
    weeks: int = 104

    def __post_init__(self) -> None:
        if self.transactions < 1:
            raise OptionsError("--transactions must be at least 1")
        if self.products < 10:
            raise OptionsError("--products must be at least 10 (one per category)")
        if self.stores < 1:
            raise OptionsError("--stores must be at least 1")
        for name, share in (
            ("--bad-share", self.bad_share),
            ("--duplicate-share", self.duplicate_share),
        ):
            if not 0.0 <= share <= 0.5:
                raise OptionsError(f"{name} must be between 0 and 0.5, got {share}")
        if self.format not in FORMATS:
            raise OptionsError(f"--format must be one of {', '.join(FORMATS)}")
        if self.chunk_rows < 1:
            raise OptionsError("--chunk-rows must be at least 1")
        if self.weeks < 1:
            raise OptionsError("--weeks must be at least 1")
        if self.start.isoweekday() != 1:
            raise OptionsError(
                f"--start must be a Monday (weeks are ISO weeks); {self.start} is a "
                f"{self.start.strftime('%A')}"
            )

    @property
    def days(self) -> int:
        return self.weeks * 7

    @property
    def end(self) -> date:
        """The last day with data (a Sunday)."""
        return self.start + timedelta(days=self.days - 1)


def seeded(seed: int, purpose: str) -> random.Random:
    """An independent, reproducible random stream per purpose (str seeds hash with SHA-512, so
    they do not depend on PYTHONHASHSEED). Synthetic data, not security: S311 does not apply."""
    return random.Random(f"{seed}:{purpose}")  # noqa: S311
