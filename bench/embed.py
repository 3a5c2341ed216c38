"""Embedding throughput: the in-package model (wordllama) against the hashing baseline.

In process, no database: the texts are the demo's size and shape — the sample catalog's 800
product texts and 15,000 sale sentences (about 90 days of the demo's 120,000 sales) written as
platinum_transaction_embeddings writes them. Texts per second per provider in `extra`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence

from bench.context import BenchContext
from bench.results import BenchResult, Side
from bench.stats import series
from workbench.embed.hashing import HashingEmbedder
from workbench.embed.provider import Vector
from workbench.embed.wordllama_model import WordLlamaEmbedder
from workbench.sample_data.catalog import CATEGORIES, build_products

NAME = "embed"
TITLE = "Embedding throughput (wordllama vs hashing baseline)"
TARGET = 5.0  # the semantic model may cost at most 5x the lexical baseline
SALES = 15_000
BATCH = 1000


def demo_texts(seed: int = 42) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - deterministic sample texts, no secret
    products = build_products(800, rng)
    texts = [f"{p.name}, by {p.brand}, in {CATEGORIES[p.category_index].name}" for p in products]
    for number in range(SALES):
        p = rng.choice(products)
        quantity = rng.randint(1, 6)
        price = p.price_cents / 100
        texts.append(
            f"On 2025-10-{1 + number % 28:02d} (Monday), store S{rng.randint(1, 200):03d} sold "
            f"{quantity} x {p.name} by {p.brand} ({CATEGORIES[p.category_index].name}) at PHP "
            f"{price:.2f} each, PHP {price * quantity:.2f} in total, paid by cash; basket "
            f"B{number:07d}; status completed."
        )
    return texts


def _timed(embed: Callable[[Sequence[str]], list[Vector]], texts: list[str]) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        embed(texts[start : start + BATCH])
    return time.perf_counter() - started


def run(ctx: BenchContext) -> BenchResult:
    texts = demo_texts()
    model = series([_timed(WordLlamaEmbedder().embed, texts) for _ in range(ctx.repeats)])
    hashing = series([_timed(HashingEmbedder().embed, texts) for _ in range(ctx.repeats)])
    result = BenchResult(
        name=NAME,
        title=TITLE,
        scale=len(texts),
        target=TARGET,
        target_text=f"<= {TARGET}x",
        candidate=Side("wordllama", f"WordLlamaEmbedder().embed, batches of {BATCH}", model),
        baseline=Side("hashing", f"HashingEmbedder().embed, batches of {BATCH}", hashing),
    )
    result.extra = {
        "texts": len(texts),
        "texts_per_second": {
            "wordllama": round(len(texts) / model.median, 1),
            "hashing": round(len(texts) / hashing.median, 1),
        },
    }
    result.notes.append(
        "model time only; the database side (COPY of the vectors, HNSW build) is not in this "
        "ratio: docs/embeddings.md gives the HNSW build and storage per row"
    )
    return result
