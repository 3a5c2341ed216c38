"""What /metrics exports: requests by status, records landed, rejected lines, latency, and
every bronze follower run. One registry per server (tests run several in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_FOLLOW_BUCKETS = (1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class ServeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "dbt_workbench_serve_requests",
            "HTTP requests answered, by route and status code.",
            ("route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "dbt_workbench_serve_request_duration_seconds",
            "Time from request to answer (landing requests include the commit).",
            ("route",),
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.records = Counter(
            "dbt_workbench_serve_records_landed",
            "Records committed to raw.<entity> by the service.",
            ("entity",),
            registry=self.registry,
        )
        self.errors = Counter(
            "dbt_workbench_serve_ingest_errors",
            "Lines that could not become records, kept in raw.ingest_errors.",
            ("entity",),
            registry=self.registry,
        )
        self.follow_runs = Counter(
            "dbt_workbench_serve_bronze_follow_runs",
            "Bronze runs started by the follower, by outcome "
            "(built, nothing_new, busy: another run held the bronze lock, failed).",
            ("outcome",),
            registry=self.registry,
        )
        self.follow_duration = Histogram(
            "dbt_workbench_serve_bronze_follow_duration_seconds",
            "Wall time of each follower bronze run.",
            buckets=_FOLLOW_BUCKETS,
            registry=self.registry,
        )
