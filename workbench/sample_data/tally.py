"""What was written, counted as the pipeline will count it: the contents of expected.json."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from workbench.contract import REJECTION_REASONS


@dataclass
class Tally:
    transactions_records: int = 0
    products_records: int = 0
    rejected_by_reason: Counter[str] = field(default_factory=Counter)
    superseded: int = 0
    valid_transactions: int = 0
    unparseable_lines: int = 0

    def expected(self) -> dict[str, object]:
        """The contract's expected.json; reasons in the contract's order, zero counts left out
        (a GROUP BY over the rejected rows has no row for them either)."""
        return {
            "transactions_records": self.transactions_records,
            "products_records": self.products_records,
            "rejected_by_reason": {
                reason: self.rejected_by_reason[reason]
                for reason in REJECTION_REASONS
                if self.rejected_by_reason[reason]
            },
            "superseded": self.superseded,
            "valid_transactions": self.valid_transactions,
            "unparseable_lines": self.unparseable_lines,
        }
