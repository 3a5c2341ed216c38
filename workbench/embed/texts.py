"""What gets embedded: the texts platinum's dbt views publish, each with its md5 `text_hash`.

All catalog products (platinum_product_embeddings), and the transactions dated within
`window_days` of the newest sale (platinum_transaction_embeddings): embedding every sale ever
made would grow without bound (10M rows ≈ 10 GB of 256-dimension vectors and hours of HNSW
build) while retrieval mostly asks about recent trade.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

# Where dbt builds the texts (the default target's platinum layer) and where `workbench embed`
# keeps the vectors: a schema of its own, never prefixed by a dbt target (like raw), so dbt never
# drops it and every target reads the one store.
VIEWS_SCHEMA = "platinum"
STORE_SCHEMA = "platinum_vectors"


@dataclass(frozen=True)
class TextKind:
    name: str  # products | transactions
    view: str  # the dbt view (VIEWS_SCHEMA) that holds embedding_text and text_hash
    vectors: str  # the table (STORE_SCHEMA) that holds the vectors
    windowed: bool  # only texts dated within the recent window

    def current_texts(self, window_days: int) -> sql.Composed:
        """`select text_hash, embedding_text` of every text this kind embeds now."""
        view = sql.Identifier(VIEWS_SCHEMA, self.view)
        query = sql.SQL("select text_hash, embedding_text from {view}").format(view=view)
        if not self.windowed:
            return query
        return sql.SQL(
            "{query} where transaction_date > (select max(transaction_date) from {view}) - {days}"
        ).format(query=query, view=view, days=sql.Literal(window_days))


PRODUCTS = TextKind("products", "platinum_product_embeddings", "product_vectors", windowed=False)
TRANSACTIONS = TextKind(
    "transactions", "platinum_transaction_embeddings", "transaction_vectors", windowed=True
)
KINDS: tuple[TextKind, ...] = (PRODUCTS, TRANSACTIONS)
