"""A skipped run ("nothing new") on a real Pushgateway: it updates the layer's run-level gauges
and leaves the per-node gauges of the last build in place, so duration history and test
failures are not blanked by hours in which nothing ran."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.runtime.records_factory import T0, invocation, node
from tests.runtime.servers import Pushgateway
from workbench.config import PostgresSettings
from workbench.observability.metrics import MetricsPusher

pytestmark = pytest.mark.integration  # a real Pushgateway

MODEL = "model.scout_retail.silver_products"


def test_a_skip_keeps_the_last_builds_node_gauges(pushgateway: Pushgateway) -> None:
    pusher = MetricsPusher(pushgateway.url, lambda _settings, _layer: None)
    built = invocation("platinum", 0, nodes=(node(MODEL, duration=4.5, rows=12),))
    pusher(built, PostgresSettings())
    assert pushgateway.sample("dbt_workbench_run_nothing_new", layer="platinum") == 0
    skipped = replace(invocation("platinum", 0, at=T0.replace(hour=7)), nothing_new=True)
    pusher(skipped, PostgresSettings())

    assert pushgateway.sample("dbt_workbench_run_nothing_new", layer="platinum") == 1
    finished = pushgateway.sample("dbt_workbench_run_last_timestamp_seconds", layer="platinum")
    assert finished == skipped.finished_at.timestamp()
    duration = pushgateway.sample(
        "dbt_workbench_node_duration_seconds", layer="platinum", node=MODEL
    )
    assert duration == 4.5
    rows = pushgateway.sample("dbt_workbench_node_rows_affected", layer="platinum", node=MODEL)
    assert rows == 12

    # a real build afterwards replaces the whole group again (nodes it did not run vanish)
    pusher(invocation("platinum", 0, at=T0.replace(hour=8)), PostgresSettings())
    gone = pushgateway.sample("dbt_workbench_node_duration_seconds", layer="platinum", node=MODEL)
    assert gone is None
