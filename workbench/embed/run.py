"""One embed pass: under the platinum lock, embed every current text not yet stored for the
model, drop vectors of texts that are gone, index, and refresh the similar-products table."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog

from workbench.config import PostgresSettings
from workbench.db import connect
from workbench.embed import store
from workbench.embed.provider import Embedder, configuration_error
from workbench.embed.texts import KINDS, TextKind
from workbench.run.lock import layer_locks

DEFAULT_BATCH_SIZE = 1000
# Nearest active products kept per product for platinum_product_recommendations.
SIMILAR_PER_PRODUCT = 5

log = structlog.get_logger("workbench.embed")


class Progress:
    """No progress bar: what a pod (no terminal) gets."""

    def advance(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass


# (kind, how many texts it will embed) -> the progress shown while they are embedded.
ProgressFactory = Callable[[str, int], Progress]


@dataclass
class EmbedResult:
    model_id: str
    dimensions: int
    embedded: dict[str, int] = field(default_factory=dict)
    pruned: dict[str, int] = field(default_factory=dict)
    vectors: dict[str, int] = field(default_factory=dict)
    indexed: bool = False
    products_with_neighbours: int = 0
    embed_seconds: float = 0.0
    duration_seconds: float = 0.0

    @property
    def total_embedded(self) -> int:
        return sum(self.embedded.values())

    @property
    def texts_per_second(self) -> float:
        return round(self.total_embedded / self.embed_seconds, 1) if self.embed_seconds else 0.0


def embed_platinum(
    settings: PostgresSettings,
    embedder: Embedder,
    provider: str,
    *,
    window_days: int,
    lock_timeout_seconds: float,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressFactory = lambda _kind, _total: Progress(),
) -> EmbedResult:
    started = time.monotonic()
    with (
        connect(settings, autocommit=True) as lock_conn,
        layer_locks(lock_conn, "platinum", lock_timeout_seconds),
        connect(settings) as writer,
        connect(settings) as reader,
    ):
        store.ensure_schema(writer)
        missing = store.missing_views(writer, KINDS)
        if missing:
            raise configuration_error(
                f"platinum views {', '.join(missing)} are missing: build the layer first "
                "(workbench run --layer platinum)"
            )
        writer.commit()
        dimensions = embedder.dimensions
        store.register_model(writer, embedder.model_id, provider, dimensions)
        writer.commit()
        result = EmbedResult(embedder.model_id, dimensions)
        for kind in KINDS:
            result.embedded[kind.name] = _embed_kind(
                reader, writer, embedder, kind, window_days, batch_size, progress, result
            )
            result.pruned[kind.name] = store.prune(writer, kind, embedder.model_id, window_days)
            result.indexed = store.ensure_index(writer, kind, embedder.model_id, dimensions)
            if result.embedded[kind.name] or result.pruned[kind.name]:
                store.analyze(writer, kind)
            result.vectors[kind.name] = store.count_vectors(writer, kind, embedder.model_id)
            writer.commit()
        result.products_with_neighbours = store.refresh_neighbours(
            writer, embedder.model_id, dimensions, SIMILAR_PER_PRODUCT
        )
        store.mark_embedded(writer, embedder.model_id)
        writer.commit()
    result.duration_seconds = round(time.monotonic() - started, 3)
    return result


def _embed_kind(
    reader: store.Connection,
    writer: store.Connection,
    embedder: Embedder,
    kind: TextKind,
    window_days: int,
    batch_size: int,
    progress: ProgressFactory,
    result: EmbedResult,
) -> int:
    total = store.count_pending(reader, kind, embedder.model_id, window_days)
    bar = progress(kind.name, total)
    done = 0
    try:
        for batch in store.pending_texts(reader, kind, embedder.model_id, window_days, batch_size):
            clock = time.monotonic()
            vectors = embedder.embed([text for _, text in batch])
            result.embed_seconds += time.monotonic() - clock
            if len(vectors) != len(batch) or any(len(v) != result.dimensions for v in vectors):
                raise configuration_error(
                    f"{embedder.model_id} answered vectors of another count or dimension than "
                    f"the {result.dimensions} it registered"
                )
            rows = [
                (text_hash, vector) for (text_hash, _), vector in zip(batch, vectors, strict=True)
            ]
            store.store_vectors(writer, kind, embedder.model_id, result.dimensions, rows)
            writer.commit()  # a later failure keeps every batch stored so far
            done += len(batch)
            bar.advance(len(batch))
    finally:
        bar.close()
    reader.commit()
    return done
