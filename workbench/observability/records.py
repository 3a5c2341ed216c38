"""What one invocation produced: the data that logs, history and metrics are written from."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# dbt statuses that mean a node did not do its job (warn is a passing test with a warning).
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
TEST_RESOURCE_TYPES = frozenset({"test", "unit_test"})


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    name: str
    resource_type: str
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_seconds: float
    rows_affected: int | None
    failures: int | None
    message: str | None

    @property
    def succeeded(self) -> bool:
        return self.status not in FAILED_STATUSES and self.status != "skipped"

    @property
    def failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def is_test(self) -> bool:
        return self.resource_type in TEST_RESOURCE_TYPES


@dataclass(frozen=True)
class InvocationResult:
    invocation_id: str
    layer: str
    selection: str
    select: str | None
    exclude: str | None
    full_refresh: bool
    vars: Mapping[str, object]
    started_at: datetime
    finished_at: datetime
    lock_wait_seconds: float
    exit_code: int
    error: str | None
    dbt_invocation_id: str | None
    labels: Mapping[str, str | None]
    nodes: tuple[NodeResult, ...] = field(default_factory=tuple)
    retry_of: str | None = None  # the failed invocation this one resumed with `dbt retry`
    input_fingerprint: str | None = None  # what the run read, hashed at its start
    nothing_new: bool = False  # skipped: the inputs matched the layer's last successful run
    # False when the run could not connect at all: nothing to record in the database either
    database_reachable: bool = True
    # dbt's run_results.json of a run that finished without success, for the next attempt
    resumable_results: bytes | None = field(default=None, repr=False)

    @property
    def success(self) -> bool:
        return self.exit_code == 0

    @property
    def duration_seconds(self) -> float:
        return (self.finished_at - self.started_at).total_seconds()

    def node_counts(self) -> dict[str, int]:
        return dict(Counter(node.status for node in self.nodes))

    @property
    def tests_failed(self) -> int:
        return sum(1 for node in self.nodes if node.is_test and node.failed)
