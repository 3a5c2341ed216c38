"""`workbench embed`'s batch metrics, pushed to the Pushgateway when PUSHGATEWAY_URL is set.

Its own grouping key (layer="platinum", step="embed"), so a push never replaces the metrics of
the platinum dbt run (job + layer="platinum").
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Gauge

from workbench.embed.run import EmbedResult
from workbench.observability.metrics import push_registry, pushgateway_url

GROUPING_KEY = {"layer": "platinum", "step": "embed"}


def build_registry(result: EmbedResult, finished_at: float) -> CollectorRegistry:
    """The metrics of a successful embed (a failed one pushes nothing: its last success stays)."""
    registry = CollectorRegistry()
    labels = ("model_id",)

    def gauge(name: str, doc: str, extra: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, doc, (*labels, *extra), registry=registry)

    model = result.model_id
    gauge(
        "dbt_workbench_embed_last_success_timestamp_seconds", "When the last embed succeeded."
    ).labels(model).set(finished_at)
    gauge("dbt_workbench_embed_duration_seconds", "Wall time of the last embed.").labels(model).set(
        result.duration_seconds
    )
    gauge(
        "dbt_workbench_embed_texts_per_second", "Texts embedded per second of model time."
    ).labels(model).set(result.texts_per_second)
    embedded = gauge("dbt_workbench_embed_embedded", "Texts embedded by the last run.", ("kind",))
    vectors = gauge("dbt_workbench_embed_vectors", "Vectors stored for the model.", ("kind",))
    for kind, count in result.embedded.items():
        embedded.labels(model, kind).set(count)
    for kind, count in result.vectors.items():
        vectors.labels(model, kind).set(count)
    return registry


def push(result: EmbedResult, finished_at: float, env: Mapping[str, str] | None = None) -> None:
    gateway = pushgateway_url(env)
    if gateway:
        push_registry(gateway, build_registry(result, finished_at), GROUPING_KEY)
