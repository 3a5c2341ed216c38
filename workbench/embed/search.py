"""Nearest catalog products to a query, through platinum_vectors.match_products (schema.sql)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from workbench.config import PostgresSettings
from workbench.db import connect
from workbench.embed import store
from workbench.embed.provider import Embedder, configuration_error
from workbench.embed.texts import PRODUCTS


@dataclass(frozen=True)
class Match:
    product_id: str
    product_name: str | None
    brand: str | None
    category: str | None
    is_active: bool | None
    score: float

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _has_match_function(conn: store.Connection) -> bool:
    return (
        conn.execute(
            "select 1 from pg_proc join pg_namespace on pg_namespace.oid = pg_proc.pronamespace "
            "where nspname = 'platinum_vectors' and proname = 'match_products'"
        ).fetchone()
        is not None
    )


def search_products(
    settings: PostgresSettings, embedder: Embedder, query: str, top: int
) -> list[Match]:
    with connect(settings) as conn:
        if not _has_match_function(conn):
            raise configuration_error(
                "no platinum vectors on this database yet: run `workbench embed` first"
            )
        if store.count_vectors(conn, PRODUCTS, embedder.model_id) == 0:
            raise configuration_error(
                f"no product vectors for model {embedder.model_id!r}: run `workbench embed` "
                "with the same provider and model first"
            )
        [vector] = embedder.embed([query])
        rows = conn.execute(
            "select product_id, product_name, brand, category, is_active, score "
            "from platinum_vectors.match_products(%s::vector, %s, %s)",
            (store.vector_text(vector), top, embedder.model_id),
        ).fetchall()
    return [
        Match(
            product_id=str(product_id),
            product_name=None if name is None else str(name),
            brand=None if brand is None else str(brand),
            category=None if category is None else str(category),
            is_active=None if active is None else bool(active),
            score=round(float(score), 4),  # type: ignore[arg-type]
        )
        for product_id, name, brand, category, active, score in rows
    ]
