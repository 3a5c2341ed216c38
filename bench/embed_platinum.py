"""Platinum's vector store on a real PostgreSQL 16 + pgvector (pgserver's binaries): the
incremental embed after 1 % of the catalog is renamed against the full embed, and the latency
of `platinum_vectors.match_products` with and without its HNSW index.

Set-up (untimed): the demo's size (`workbench demo`'s default, 120,000 transactions; fixed,
`--scale` does not apply), sample data, ingest, `workbench run --layer all` without tests.
Each repeat then, with the wordllama model loaded once in this process:

- full embed (baseline): the vector tables emptied and their HNSW indexes dropped, as on a
  database that was never embedded, then one `embed_platinum` pass (workbench/embed/run.py):
  every current product text and every sale sentence of the window, the HNSW builds, the
  similar-products refresh;
- incremental embed (candidate): 1 % of the catalog (8 of 800 products, each with a text no
  other product shares) renamed in silver, as
  tests/integration/test_embed_platinum.py::test_renamed_products_get_new_vectors_and_only_they_are_embedded
  does, then the next `embed_platinum` pass: the 8 new product texts and the window's sale
  sentences that name them, the stale vectors pruned, the similar-products refresh;
- a pass with nothing new: the floor every pass pays (counting what is pending, the
  similar-products refresh). Every pass records the seconds of each store step
  (`_phase_clock`) and of the model.

Search: 200 query texts built from the catalog, embedded once up front, so the timed part is
only the SQL function a RAG caller calls with its own vector (`select ... from
platinum_vectors.match_products(vector, 10)`, one connection, client-side wall-clock per call);
`workbench search` adds a connection, two catalog checks and the model's own embedding of the
query, which would hide the index. "Without HNSW" drops the index inside a transaction that is
rolled back (nothing else changes: enable_indexscan = off would touch every index the
statement could use, the join's too); "with" runs in a transaction too, for symmetry.
EXPLAIN of the function's nearest-vector scan says whether the index is used (the function
runs it through EXECUTE, so EXPLAIN of the function call would not show it). The catalog
holds only ~600 distinct product texts, so the same scan is also timed on the ~16,000
sale-sentence vectors, where an index starts to matter.
"""

from __future__ import annotations

import contextlib
import random
import re
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

from psycopg import sql

from bench.cluster import BenchServer, throwaway_server
from bench.context import BenchContext
from bench.dataset import dataset
from bench.pipeline import build_all, ingest_dataset
from bench.results import BenchResult, Side
from bench.stats import series
from workbench.config import PostgresSettings
from workbench.embed import store
from workbench.embed.run import EmbedResult, embed_platinum
from workbench.embed.texts import KINDS, PRODUCTS, STORE_SCHEMA, TextKind
from workbench.embed.texts import TRANSACTIONS as TRANSACTIONS_KIND
from workbench.embed.wordllama_model import WordLlamaEmbedder
from workbench.sample_data.catalog import CATEGORIES

NAME = "embed_platinum"
TITLE = "Incremental embed after 1% renamed products vs full embed (PG16 + pgvector)"
TARGET = 0.2  # the pass after a 1 % change may cost at most a fifth of the full embed
TRANSACTIONS = 120_000  # `workbench demo`'s default size
RENAMED_SHARE = 0.01
QUERIES = 200
WARMUP = 20
TOP = 10
WINDOW_DAYS = 90  # the default embed window (DEFAULT_EMBED_WINDOW_DAYS)


def query_texts(count: int = QUERIES, seed: int = 7) -> list[str]:
    """Shopper-like queries: category names, brand + category, words of product names."""
    from workbench.sample_data.catalog import build_products

    rng = random.Random(seed)  # noqa: S311 - deterministic sample queries, no secret
    products = build_products(800, random.Random(42))  # noqa: S311
    queries: list[str] = [c.name.lower() for c in CATEGORIES]
    while len(queries) < count:
        p = rng.choice(products)
        words = p.name.split()
        shape = rng.randrange(3)
        if shape == 0:
            queries.append(f"{p.brand} {CATEGORIES[p.category_index].name.lower()}")
        elif shape == 1:
            queries.append(" ".join(rng.sample(words, min(2, len(words)))).lower())
        else:
            queries.append(f"cheap {words[-1].lower()}")
    return queries[:count]


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p50, p95) of `values`."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))  # ceil(n * share), at least 1
    return ordered[int(rank) - 1]


def _settings(env: dict[str, str]) -> PostgresSettings:
    return PostgresSettings.from_env(env)


def _forget_vectors(server: BenchServer, dbname: str, model_id: str) -> None:
    """The store as before any embed: no vectors, no HNSW index (the model row may stay)."""
    with server.connect(dbname) as conn:
        store.ensure_schema(conn)  # the tables exist from the first embed on; empty ones here
        for kind in KINDS:
            index = sql.Identifier(STORE_SCHEMA, store.index_name(kind, model_id))
            conn.execute(sql.SQL("drop index if exists {}").format(index))
            conn.execute(sql.SQL("truncate {}").format(sql.Identifier(STORE_SCHEMA, kind.vectors)))
        conn.execute("delete from platinum_vectors.product_neighbours")


def _rename_share(server: BenchServer, dbname: str, tag: str) -> tuple[int, int]:
    """Rename 1 % of the catalog (products whose text no other shares); how many, and how
    many sales of the embed window name them."""
    with server.connect(dbname) as conn:
        total = conn.execute("select count(*) from silver.silver_products").fetchone()
        wanted = max(1, round(int(total[0] if total else 0) * RENAMED_SHARE))
        renamed = [
            row[0]
            for row in conn.execute(
                "select min(product_id) from platinum.platinum_product_embeddings "
                "group by text_hash having count(*) = 1 order by 1 limit %s",
                (wanted,),
            ).fetchall()
        ]
        conn.execute(
            "update silver.silver_products set product_name = product_name || %s "
            "where product_id = any(%s)",
            (f" {tag}", renamed),
        )
        sales = conn.execute(
            "select count(*) from platinum.platinum_transaction_embeddings "
            "where product_id = any(%s) and transaction_date > "
            "(select max(transaction_date) from platinum.platinum_transaction_embeddings) - %s",
            (renamed, WINDOW_DAYS),
        ).fetchone()
    return len(renamed), int(sales[0] if sales else 0)


# The store steps of one embed pass (workbench/embed/store.py) timed by `_phase_clock`.
PHASES = (
    "ensure_schema",
    "count_pending",
    "pending_texts",
    "store_vectors",
    "prune",
    "ensure_index",
    "analyze",
    "refresh_neighbours",
)


@contextlib.contextmanager
def _phase_clock() -> Iterator[dict[str, float]]:
    """Seconds spent in each store step while the block runs (the module's functions are
    wrapped and restored; embed_platinum calls them through the module). Model time is
    EmbedResult.embed_seconds; what remains is connections, locks and commits."""
    spent = dict.fromkeys(PHASES, 0.0)
    originals = {name: getattr(store, name) for name in PHASES}

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started

        return call

    def timed_rows(function: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
        def rows(*args: Any, **kwargs: Any) -> Iterator[Any]:
            batches = function(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    batch = next(batches)
                except StopIteration:
                    return
                finally:
                    spent["pending_texts"] += time.perf_counter() - started
                yield batch

        return rows

    for name, function in originals.items():
        wrapped = timed_rows(function) if name == "pending_texts" else timed(name, function)
        setattr(store, name, wrapped)
    try:
        yield spent
    finally:
        for name, function in originals.items():
            setattr(store, name, function)


def _pass(
    env: dict[str, str], embedder: WordLlamaEmbedder
) -> tuple[EmbedResult, float, dict[str, float]]:
    """One embed pass: its result, wall-clock seconds and seconds per store step."""
    with _phase_clock() as spent:
        started = time.perf_counter()
        result = embed_platinum(
            _settings(env),
            embedder,
            "wordllama",
            window_days=WINDOW_DAYS,
            lock_timeout_seconds=60,
        )
        seconds = time.perf_counter() - started
    return result, seconds, {name: round(value, 3) for name, value in spent.items()}


def _summary(result: EmbedResult, seconds: float, steps: dict[str, float]) -> dict[str, object]:
    return {
        "seconds": round(seconds, 3),
        "store_step_seconds": steps,
        "embedded_by_kind": dict(result.embedded),
        "pruned_by_kind": dict(result.pruned),
        "vectors_by_kind": dict(result.vectors),
        "model_seconds": round(result.embed_seconds, 3),
        "model_texts_per_second": result.texts_per_second,
        "texts_per_second_end_to_end": round(result.total_embedded / seconds, 1),
    }


def _nearest_statement(kind: TextKind, model_id: str, dimensions: int) -> str:
    """The nearest-vector scan match_products executes for the model (schema.sql)."""
    return (
        f"select text_hash from {STORE_SCHEMA}.{kind.vectors} where model_id = '{model_id}' "
        f"order by embedding::vector({dimensions}) <=> %s::vector({dimensions}) limit {TOP}"
    )


def _short_plan(lines: list[str]) -> str:
    """EXPLAIN's text without the 256 numbers of the query vector."""
    return "\n".join(re.sub(r"'\[[^\]]*\]'", "'[...]'", line) for line in lines)


def _latencies(
    server: BenchServer,
    dbname: str,
    vectors: list[str],
    kind: TextKind,
    model_id: str,
    dimensions: int,
    *,
    with_index: bool,
) -> tuple[list[float], list[int], str]:
    """Seconds and rows answered per call over `vectors` (after a warm-up) and the plan of
    the nearest-vector scan, in one transaction that is rolled back. Products: match_products,
    what a RAG caller calls; transactions (no SQL function): the same scan on the sale
    sentences' vectors."""
    nearest = _nearest_statement(kind, model_id, dimensions)
    if kind is PRODUCTS:
        query = f"select product_id, score from {STORE_SCHEMA}.match_products(%s::vector, {TOP})"
    else:
        query = nearest
    with server.connect(dbname) as conn:
        conn.autocommit = False
        if not with_index:
            index = sql.Identifier(STORE_SCHEMA, store.index_name(kind, model_id))
            conn.execute(sql.SQL("drop index {}").format(index))
        explained = conn.execute(f"explain {nearest}".encode(), (vectors[0],)).fetchall()
        for vector in vectors[:WARMUP]:
            conn.execute(query.encode(), (vector,)).fetchall()
        seconds: list[float] = []
        counts: list[int] = []  # rows answered: an approximate scan may answer fewer than TOP
        for vector in vectors:
            started = time.perf_counter()
            rows = conn.execute(query.encode(), (vector,)).fetchall()
            seconds.append(time.perf_counter() - started)
            counts.append(len(rows))
        conn.rollback()
    return seconds, counts, _short_plan([str(row[0]) for row in explained])


def _ms(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(values, 0.50) * 1000, 3),
        "p95_ms": round(percentile(values, 0.95) * 1000, 3),
        "mean_ms": round(statistics.fmean(values) * 1000, 3),
        "max_ms": round(max(values) * 1000, 3),
    }


def _search_kind(
    server: BenchServer,
    dbname: str,
    vectors: list[str],
    kind: TextKind,
    embedder: WordLlamaEmbedder,
    repeats: int,
) -> dict[str, Any]:
    model_id, dimensions = embedder.model_id, embedder.dimensions
    pooled: dict[bool, list[float]] = {True: [], False: []}
    short: dict[bool, int] = {True: 0, False: 0}
    plans: dict[bool, str] = {}
    for _ in range(repeats):
        for with_index in (True, False):  # alternate, so load drifts hit both alike
            seconds, counts, plans[with_index] = _latencies(
                server, dbname, vectors, kind, model_id, dimensions, with_index=with_index
            )
            pooled[with_index].extend(seconds)
            short[with_index] += sum(1 for count in counts if count < TOP)
    index = store.index_name(kind, model_id)
    count = server.scalar(
        dbname,
        f"select count(*) from {STORE_SCHEMA}.{kind.vectors} where model_id = '{model_id}'",
    )
    with_hnsw, exact = _ms(pooled[True]), _ms(pooled[False])
    return {
        "vectors": count,
        "calls_per_side": len(pooled[True]),
        "with_hnsw": with_hnsw,
        "without_hnsw_exact_scan": exact,
        "calls_answering_fewer_than_top_with_hnsw": short[True],
        "calls_answering_fewer_than_top_without_hnsw": short[False],
        "p50_ratio_with_over_without": round(with_hnsw["p50_ms"] / exact["p50_ms"], 3),
        "plan_with_hnsw_uses_index": f"Index Scan using {index}" in plans[True],
        "plan_without_hnsw_uses_index": index in plans[False],
        "plan_with_hnsw": plans[True],
        "plan_without_hnsw": plans[False],
    }


def _search(
    server: BenchServer, dbname: str, embedder: WordLlamaEmbedder, repeats: int
) -> dict[str, Any]:
    texts = query_texts()
    started = time.perf_counter()
    vectors = [store.vector_text(v) for v in embedder.embed(texts)]
    embed_seconds = time.perf_counter() - started
    return {
        "how": f"products: select ... from platinum_vectors.match_products(<precomputed "
        f"{embedder.dimensions}-d query vector>, {TOP}); transactions (no SQL function): the "
        "same nearest-vector scan on transaction_vectors; one connection, client-side "
        f"wall-clock per call, {len(texts)} queries x {repeats} repeats per side after "
        f"{WARMUP} warm-up calls; without HNSW = index dropped in a rolled-back transaction",
        "queries": len(texts),
        "query_embedding_ms_each": round(embed_seconds / len(texts) * 1000, 3),
        "products": _search_kind(server, dbname, vectors, PRODUCTS, embedder, repeats),
        "transactions": _search_kind(server, dbname, vectors, TRANSACTIONS_KIND, embedder, repeats),
    }


def _search_headline(search: dict[str, Any]) -> str:
    parts = []
    for kind in ("products", "transactions"):
        found = search[kind]
        hnsw, exact = found["with_hnsw"], found["without_hnsw_exact_scan"]
        parts.append(
            f"{kind} ({found['vectors']:,} vectors) p50/p95 {hnsw['p50_ms']}/{hnsw['p95_ms']} ms "
            f"with HNSW (plan uses it: {found['plan_with_hnsw_uses_index']}), "
            f"{exact['p50_ms']}/{exact['p95_ms']} ms exact scan; calls answering fewer than "
            f"{TOP} rows: {found['calls_answering_fewer_than_top_with_hnsw']} with HNSW, "
            f"{found['calls_answering_fewer_than_top_without_hnsw']} without"
        )
    return "; ".join(parts)


def run(ctx: BenchContext) -> BenchResult:
    result = BenchResult(
        name=NAME, title=TITLE, scale=TRANSACTIONS, target=TARGET, target_text=f"<= {TARGET}x"
    )
    run_dir = ctx.fresh_run_dir(NAME)
    ds = dataset(ctx, TRANSACTIONS)
    embedder = WordLlamaEmbedder()
    full: list[float] = []
    incremental: list[float] = []
    unchanged: list[float] = []
    passes: list[dict[str, object]] = []
    texts = {"full": 0, "incremental": 0}
    with throwaway_server(ctx.workdir, NAME, pgvector=True) as server:
        setup_started = time.perf_counter()
        env = ingest_dataset(ctx, server, ds, NAME, run_dir / "setup")
        build_all(ctx, env, run_dir)
        setup_seconds = time.perf_counter() - setup_started
        for i in range(ctx.repeats):
            _forget_vectors(server, NAME, embedder.model_id)
            first, seconds, first_steps = _pass(env, embedder)
            full.append(seconds)
            renamed, named_sales = _rename_share(server, NAME, f"New Look {i}")
            after, seconds, after_steps = _pass(env, embedder)
            incremental.append(seconds)
            if after.embedded.get("products") != renamed:
                raise RuntimeError(
                    f"the incremental pass embedded {after.embedded} after {renamed} renames"
                )
            floor, seconds, floor_steps = _pass(env, embedder)  # nothing changed: the floor
            unchanged.append(seconds)
            if floor.total_embedded:
                raise RuntimeError(f"a pass after no change embedded {floor.embedded}")
            texts = {"full": first.total_embedded, "incremental": after.total_embedded}
            passes.append(
                {
                    "renamed_products": renamed,
                    "window_sales_naming_them": named_sales,
                    "full": _summary(first, full[-1], first_steps),
                    "incremental": _summary(after, incremental[-1], after_steps),
                    "nothing_new": _summary(floor, unchanged[-1], floor_steps),
                }
            )
        search = _search(server, NAME, embedder, ctx.repeats)
        versions = {
            "server": server.version(),
            "pgvector": server.scalar(
                NAME, "select extversion from pg_extension where extname = 'vector'"
            ),
        }
    result.candidate = Side(
        "incremental embed",
        f"embed_platinum(wordllama) after renaming {RENAMED_SHARE:.0%} of the products",
        series(incremental),
    )
    result.baseline = Side(
        "full embed", "embed_platinum(wordllama) on an empty vector store", series(full)
    )
    result.extra = {
        "transactions": TRANSACTIONS,
        "postgres": versions,
        "setup_seconds": round(setup_seconds, 1),
        "nothing_new_seconds": series(unchanged).as_dict(),
        "passes": passes,
        "search": search,
        "headline_embed": (
            f"full {series(full).median:.2f} s for {texts['full']:,} texts, incremental "
            f"{series(incremental).median:.2f} s for {texts['incremental']:,} texts"
        ),
        "headline_embed_floor": (
            f"a pass with nothing new takes {series(unchanged).median:.2f} s (texts to embed "
            "counted, similar-products refresh, statistics): the floor under the incremental"
        ),
        "headline_search": _search_headline(search),
    }
    result.notes.append(
        "in process: the wordllama model is loaded once, before the clock; the server is "
        f"pgserver's PostgreSQL {versions['server']} with pgvector {versions['pgvector']} "
        "(machine.postgres names the first server binaries found, which may be another)"
    )
    return result
