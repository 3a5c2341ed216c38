"""Ingest outcomes for Prometheus, pushed to the Pushgateway when PUSHGATEWAY_URL is set.

One group per kind of invocation (grouping key job="dbt-workbench" + ingest=<group>: the
entity for a plain `workbench ingest`, "sources" for `--sources FILE`), replaced by each push,
so the gateway holds the outcome of the last pull of every source. A failed push is only logged.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge

from workbench.contract import describe_exit_codes
from workbench.observability.metrics import push_registry, pushgateway_url


@dataclass(frozen=True)
class SourceOutcome:
    """What one source (a PATH, an s3:// or gdrive:// URI) gave in one invocation."""

    uri: str
    entity: str
    exit_code: int
    files: int = 0
    failed_files: int = 0  # data failures (garbage)
    gone_files: int = 0  # listed, then gone before the download
    inserted: int = 0
    errors: int = 0


def build_ingest_registry(
    outcomes: Sequence[SourceOutcome], finished_at: float
) -> CollectorRegistry:
    registry = CollectorRegistry()
    labels = ("uri", "entity")

    def gauge(name: str, doc: str, extra: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, (*labels, *extra), registry=registry)

    code = gauge(
        "dbt_workbench_ingest_source_exit_code",
        f"Exit code of the source's last ingest ({describe_exit_codes()}).",
    )
    files = gauge(
        "dbt_workbench_ingest_source_files",
        "Files of the source's last ingest by outcome (landed, failed: garbage, gone).",
        ("outcome",),
    )
    inserted = gauge(
        "dbt_workbench_ingest_source_records_inserted", "Records newly landed by the last ingest."
    )
    errors = gauge(
        "dbt_workbench_ingest_source_error_lines", "Unparseable lines read by the last ingest."
    )
    stamp = gauge("dbt_workbench_ingest_last_timestamp_seconds", "When the last ingest finished.")
    for item in outcomes:
        key = (item.uri, item.entity)
        code.labels(*key).set(item.exit_code)
        landed = item.files - item.failed_files
        for outcome, count in (
            ("landed", landed),
            ("failed", item.failed_files),
            ("gone", item.gone_files),
        ):
            files.labels(*key, outcome).set(count)
        inserted.labels(*key).set(item.inserted)
        errors.labels(*key).set(item.errors)
        stamp.labels(*key).set(finished_at)
    return registry


def push_ingest_outcomes(
    outcomes: Sequence[SourceOutcome], group: str, env: Mapping[str, str] | None = None
) -> None:
    gateway = pushgateway_url(env)
    if gateway:
        push_registry(gateway, build_ingest_registry(outcomes, time.time()), {"ingest": group})
