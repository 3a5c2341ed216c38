"""The embed_platinum bench's own arithmetic and bookkeeping (no server: the bench itself runs
on PostgreSQL 16 + pgvector with `python -m bench --only embed_platinum`)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bench import embed_platinum
from bench.__main__ import BENCHES
from workbench.embed import store


def test_the_bench_is_registered() -> None:
    assert BENCHES["embed_platinum"] is embed_platinum


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert embed_platinum.percentile(values, 0.50) == 50.0
    assert embed_platinum.percentile(values, 0.95) == 95.0
    assert embed_platinum.percentile([3.0, 1.0, 2.0], 0.95) == 3.0
    assert embed_platinum.percentile([7.0], 0.5) == 7.0


def test_queries_are_deterministic_and_varied() -> None:
    queries = embed_platinum.query_texts()
    assert len(queries) == embed_platinum.QUERIES
    assert queries == embed_platinum.query_texts()
    assert len(set(queries)) > embed_platinum.QUERIES // 2
    assert all(q.strip() for q in queries)


def test_plans_lose_the_query_vector() -> None:
    line = "Order By: ((embedding)::vector(3) <=> '[0.1,-0.2,3e-05]'::vector(3))"
    assert embed_platinum._short_plan([line, "Limit"]) == (
        "Order By: ((embedding)::vector(3) <=> '[...]'::vector(3))\nLimit"
    )


def test_the_phase_clock_times_store_steps_and_puts_them_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def slow_analyze(*_args: object) -> None:
        time.sleep(0.02)

    def slow_batches(*_args: object) -> Iterator[list[tuple[str, str]]]:
        for batch in ([("h1", "a")], [("h2", "b")]):
            time.sleep(0.01)
            yield batch

    monkeypatch.setattr(store, "analyze", slow_analyze)
    monkeypatch.setattr(store, "pending_texts", slow_batches)
    originals = {name: getattr(store, name) for name in embed_platinum.PHASES}
    with embed_platinum._phase_clock() as spent:
        store.analyze(None, None)  # type: ignore[arg-type]
        batches = list(store.pending_texts(None, None, "m", 1, 1))  # type: ignore[arg-type]
    assert batches == [[("h1", "a")], [("h2", "b")]]
    assert {name: getattr(store, name) for name in embed_platinum.PHASES} == originals
    assert spent["analyze"] >= 0.02 and spent["pending_texts"] >= 0.02
    assert spent["prune"] == 0.0
