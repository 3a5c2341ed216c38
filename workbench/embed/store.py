"""Platinum's vector store in PostgreSQL with pgvector (tables and function: schema.sql)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator, Sequence
from importlib.resources import files

import psycopg
from psycopg import sql

from workbench.embed.provider import Vector, VectorsUnavailable, configuration_error
from workbench.embed.texts import PRODUCTS, STORE_SCHEMA, VIEWS_SCHEMA, TextKind

# pgvector indexes (HNSW) at most this many dimensions; larger models are searched exactly.
MAX_INDEXED_DIMENSIONS = 2000
Connection = psycopg.Connection[tuple[object, ...]]


def pgvector_available(conn: Connection) -> bool:
    row = conn.execute("select 1 from pg_available_extensions where name = 'vector'").fetchone()
    return row is not None


def ensure_schema(conn: Connection) -> None:
    """Create the extension, tables and platinum_vectors.match_products (idempotent)."""
    if not pgvector_available(conn):
        raise VectorsUnavailable(
            "this PostgreSQL server has no pgvector extension, so platinum vectors cannot be "
            "stored: install pgvector (https://github.com/pgvector/pgvector) or use a server "
            "that has it (Supabase, the demo's pgserver)"
        )
    ddl = files("workbench.embed").joinpath("schema.sql").read_text(encoding="utf-8")
    try:
        conn.execute(ddl.encode())
    except psycopg.errors.InsufficientPrivilege as exc:
        raise VectorsUnavailable(
            f"cannot create pgvector's extension or platinum's vector tables ({exc}); "
            "ask a superuser to run: create extension vector;"
        ) from exc


def missing_views(conn: Connection, kinds: Sequence[TextKind]) -> list[str]:
    """The dbt views `workbench embed` reads that are not there (platinum not built yet)."""
    found = [
        conn.execute("select to_regclass(%s)", (f"{VIEWS_SCHEMA}.{kind.view}",)).fetchone()
        for kind in kinds
    ]
    return [kind.view for kind, row in zip(kinds, found, strict=True) if row == (None,)]


def register_model(conn: Connection, model_id: str, provider: str, dimensions: int) -> None:
    """Record the model's dimensions; a model id seen before with others is refused."""
    conn.execute(
        "insert into platinum_vectors.embedding_models (model_id, provider, dimensions) "
        "values (%s, %s, %s) on conflict (model_id) do nothing",
        (model_id, provider, dimensions),
    )
    row = conn.execute(
        "select dimensions from platinum_vectors.embedding_models where model_id = %s", (model_id,)
    ).fetchone()
    if row is not None and row[0] != dimensions:
        raise configuration_error(
            f"model {model_id!r} has {row[0]}-dimension vectors stored, but the provider now "
            f"answers {dimensions}: give the new configuration its own model "
            f"(WORKBENCH_EMBED_MODEL / WORKBENCH_EMBED_DIMENSIONS) or delete the old vectors "
            "(docs/embeddings.md: dropping a model's vectors)"
        )


def _pending(kind: TextKind, window_days: int) -> sql.Composed:
    return sql.SQL(
        "select distinct current.text_hash, current.embedding_text from ({texts}) as current "
        "where not exists (select 1 from {vectors} as stored "
        "where stored.model_id = %(model)s and stored.text_hash = current.text_hash)"
    ).format(
        texts=kind.current_texts(window_days), vectors=sql.Identifier(STORE_SCHEMA, kind.vectors)
    )


def count_pending(conn: Connection, kind: TextKind, model_id: str, window_days: int) -> int:
    query = sql.SQL("select count(*) from ({pending}) as pending").format(
        pending=_pending(kind, window_days)
    )
    row = conn.execute(query, {"model": model_id}).fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def pending_texts(
    conn: Connection, kind: TextKind, model_id: str, window_days: int, batch_size: int
) -> Iterator[list[tuple[str, str]]]:
    """(text_hash, text) not yet embedded with `model_id`, in batches, read through a
    server-side cursor so memory stays bounded by one batch."""
    with conn.cursor(name=f"pending_{kind.name}") as cursor:
        cursor.itersize = batch_size
        cursor.execute(_pending(kind, window_days), {"model": model_id})
        while rows := cursor.fetchmany(batch_size):
            yield [(str(text_hash), str(text)) for text_hash, text in rows]


def vector_text(vector: Vector) -> str:
    """pgvector's text input form: [x1,x2,...]."""
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


# COPY's binary form (PostgreSQL docs, "COPY … Binary Format"): signature, flags, no extension.
_COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_COPY_BINARY_TRAILER = struct.pack(">h", -1)


def _field(value: bytes) -> bytes:
    return struct.pack(">i", len(value)) + value


def vector_binary(vector: Vector) -> bytes:
    """pgvector's binary input form (vector_recv): int16 dimensions, int16 unused, float4s.
    Packing is ten times cheaper than formatting the text form, which dominated a demo embed."""
    return struct.pack(f">hh{len(vector)}f", len(vector), 0, *vector)


def store_vectors(
    conn: Connection,
    kind: TextKind,
    model_id: str,
    dimensions: int,
    rows: Sequence[tuple[str, Vector]],
) -> None:
    """COPY one batch of (text_hash, vector) in binary; the caller commits."""
    statement = sql.SQL(
        "copy {vectors} (model_id, text_hash, dimensions, embedding) from stdin (format binary)"
    ).format(vectors=sql.Identifier(STORE_SCHEMA, kind.vectors))
    model = _field(model_id.encode())
    dims = _field(struct.pack(">i", dimensions))
    with conn.cursor().copy(statement) as copy:
        copy.write(_COPY_BINARY_HEADER)
        for text_hash, vector in rows:
            copy.write(
                b"".join(
                    (
                        struct.pack(">h", 4),
                        model,
                        _field(text_hash.encode()),
                        dims,
                        _field(vector_binary(vector)),
                    )
                )
            )
        copy.write(_COPY_BINARY_TRAILER)


def prune(conn: Connection, kind: TextKind, model_id: str, window_days: int) -> int:
    """Delete the model's vectors of texts no longer current (renamed, out of the window)."""
    statement = sql.SQL(
        "delete from {vectors} as stored where stored.model_id = %(model)s and not exists "
        "(select 1 from ({texts}) as current where current.text_hash = stored.text_hash)"
    ).format(
        vectors=sql.Identifier(STORE_SCHEMA, kind.vectors), texts=kind.current_texts(window_days)
    )
    return conn.execute(statement, {"model": model_id}).rowcount


def index_name(kind: TextKind, model_id: str) -> str:
    digest = hashlib.sha256(model_id.encode()).hexdigest()[:12]
    return f"{kind.vectors}_hnsw_{digest}"


def ensure_index(conn: Connection, kind: TextKind, model_id: str, dimensions: int) -> bool:
    """A partial HNSW index (cosine) on the model's vectors, cast to its dimensions; False
    when the model has too many dimensions for pgvector to index."""
    if dimensions > MAX_INDEXED_DIMENSIONS:
        return False
    conn.execute(
        sql.SQL(
            "create index if not exists {name} on {vectors} using hnsw "
            "((embedding::vector({dims})) vector_cosine_ops) where model_id = {model}"
        ).format(
            name=sql.Identifier(index_name(kind, model_id)),
            vectors=sql.Identifier(STORE_SCHEMA, kind.vectors),
            dims=sql.Literal(dimensions),
            model=sql.Literal(model_id),
        )
    )
    return True


def analyze(conn: Connection, kind: TextKind) -> None:
    """Fresh statistics: without them the planner guesses a handful of rows per model and
    prefers the primary key to the HNSW index."""
    conn.execute(sql.SQL("analyze {}").format(sql.Identifier(STORE_SCHEMA, kind.vectors)))


def mark_embedded(conn: Connection, model_id: str) -> None:
    conn.execute(
        "update platinum_vectors.embedding_models set last_embedded_at = now() where model_id = %s",
        (model_id,),
    )


def count_vectors(conn: Connection, kind: TextKind, model_id: str) -> int:
    query = sql.SQL("select count(*) from {vectors} where model_id = %s").format(
        vectors=sql.Identifier(STORE_SCHEMA, kind.vectors)
    )
    row = conn.execute(query, (model_id,)).fetchone()
    return int(row[0]) if row else 0  # type: ignore[call-overload]


def refresh_neighbours(conn: Connection, model_id: str, dimensions: int, per_product: int) -> int:
    """Replace platinum_vectors.product_neighbours (dbt creates it; platinum_product_recommendations
    reads it) with each product's `per_product` nearest active products under `model_id`."""
    cast = sql.SQL("::vector({})").format(sql.Literal(dimensions))
    statement = sql.SQL(
        """
        insert into platinum_vectors.product_neighbours
            (product_id, model_id, similar_product_ids, similarity_scores)
        select
            target.product_id,
            %(model)s,
            array_agg(near.product_id order by near.distance, near.product_id),
            array_agg(round((1 - near.distance)::numeric, 4)::real
                order by near.distance, near.product_id)
        from {products} as target
        inner join {vectors} as target_vector
            on target_vector.model_id = %(model)s and target_vector.text_hash = target.text_hash
        cross join lateral (
            select candidate.product_id, nearest.distance
            from (
                select stored.text_hash, stored.embedding{cast} <=> target_vector.embedding{cast}
                    as distance
                from {vectors} as stored
                where stored.model_id = {model}
                order by stored.embedding{cast} <=> target_vector.embedding{cast}
                limit %(scan)s
            ) as nearest
            inner join {products} as candidate on candidate.text_hash = nearest.text_hash
            where candidate.product_id <> target.product_id and candidate.is_active
            order by nearest.distance, candidate.product_id
            limit %(k)s
        ) as near
        group by target.product_id
        """
    ).format(
        products=sql.Identifier(VIEWS_SCHEMA, PRODUCTS.view),
        vectors=sql.Identifier(STORE_SCHEMA, PRODUCTS.vectors),
        cast=cast,
        model=sql.Literal(model_id),
    )
    conn.execute("delete from platinum_vectors.product_neighbours")
    return conn.execute(
        statement, {"model": model_id, "scan": per_product * 4 + 1, "k": per_product}
    ).rowcount
