"""Helpers shared by the reliability tests: a database per module, the CLI, table digests."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from tests.dbt_support import connect
from tests.pgcluster import PostgresCluster
from workbench import cli

MODEL_TABLES = {
    "bronze": ("bronze_transactions", "bronze_products"),
    "silver": ("silver_validated_transactions", "silver_rejected_transactions", "silver_products"),
    "gold": ("gold_monthly_summary", "gold_category_trends"),
    "platinum": ("platinum_transaction_embeddings", "platinum_product_recommendations"),
}
# Columns stamped with the wall clock of the run that wrote them: equal data, different runs.
RUN_TIME_COLUMNS = frozenset(
    {
        "bronze_loaded_at",
        "last_bronze_loaded_at",
        "validated_at",
        "rejected_at",
        "judged_at",
        "silver_judged_through",
    }
)


@dataclass(frozen=True)
class Database:
    env: dict[str, str]

    @property
    def name(self) -> str:
        return self.env["POSTGRES_DB"]

    def connect(self) -> psycopg.Connection[Any]:
        return connect(self.env)

    def rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            return conn.execute(query.encode(), params).fetchall()

    def scalar(self, query: str, params: tuple[Any, ...] = ()) -> Any:
        found = self.rows(query, params)
        assert len(found) == 1
        return found[0][0]

    def digest(self, schema: str, table: str, skip: frozenset[str] = RUN_TIME_COLUMNS) -> str:
        """md5 over every row (ordered), leaving out the run-time stamp columns."""
        columns = [
            name
            for (name,) in self.rows(
                "select column_name from information_schema.columns"
                " where table_schema = %s and table_name = %s order by ordinal_position",
                (schema, table),
            )
            if name not in skip
        ]
        assert columns, f"{schema}.{table} does not exist"
        query = sql.SQL("select row({cols})::text from {tbl} order by 1").format(
            cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            tbl=sql.Identifier(schema, table),
        )
        digest = hashlib.md5(usedforsecurity=False)
        with self.connect() as conn:
            for (text,) in conn.execute(query):
                digest.update(text.encode())
                digest.update(b"\n")
        return digest.hexdigest()

    def digests(self, schemas: tuple[str, ...] = ("silver", "gold", "platinum")) -> dict[str, str]:
        return {
            f"{schema}.{table}": self.digest(schema, table)
            for schema in schemas
            for table in MODEL_TABLES[schema]
        }


def _admin(cluster: PostgresCluster) -> psycopg.Connection[Any]:
    e = cluster.env()
    return psycopg.connect(
        host=e["POSTGRES_HOST"],
        port=e["POSTGRES_PORT"],
        user=e["POSTGRES_USER"],
        password=e["POSTGRES_PASSWORD"],
        dbname="postgres",
        autocommit=True,
    )


def create_database(cluster: PostgresCluster, template: str | None = None) -> Database:
    name = f"rel_{uuid.uuid4().hex[:10]}"
    statement = sql.SQL("create database {}").format(sql.Identifier(name))
    if template:
        statement += sql.SQL(" template {}").format(sql.Identifier(template))
    with _admin(cluster) as conn:
        conn.execute(statement)
    return Database(cluster.env(name))


def drop_database(cluster: PostgresCluster, db: Database) -> None:
    with _admin(cluster) as conn:
        conn.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(db.name))
        )


@contextlib.contextmanager
def workbench_env(db: Database, workdir: Path, extra: Mapping[str, str] = {}) -> Iterator[None]:
    """os.environ pointed at `db`, with dbt's target and logs under `workdir`, then restored."""
    saved = dict(os.environ)
    os.environ.update(db.env)
    os.environ["DBT_TARGET_PATH"] = str(workdir / "target")
    os.environ["DBT_LOG_PATH"] = str(workdir / "logs")
    for key in ("PUSHGATEWAY_URL", "WORKFLOW_NAME", "WORKFLOW_UID", "POD_NAME", "POD_NAMESPACE"):
        os.environ.pop(key, None)
    os.environ.update(extra)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def workbench(*argv: str) -> int:
    """The `workbench` console script, in this process."""
    return cli.main(list(argv))


def subprocess_env(db: Database, workdir: Path, extra: Mapping[str, str] = {}) -> dict[str, str]:
    env = dict(os.environ)
    for key in ("PUSHGATEWAY_URL", "WORKFLOW_NAME", "WORKFLOW_UID", "POD_NAME", "POD_NAMESPACE"):
        env.pop(key, None)
    env.update(db.env)
    env["DBT_TARGET_PATH"] = str(workdir / "target")
    env["DBT_LOG_PATH"] = str(workdir / "logs")
    env.update(extra)
    return env


def workbench_executable() -> str:
    import sys

    path = Path(sys.executable).parent / "workbench"
    assert path.exists(), f"{path} missing: run `uv sync --frozen` (make setup)"
    return str(path)


def valid_sale(transaction_id: str) -> dict[str, object]:
    """A transaction every silver rule accepts (product HP-001 of the reliability catalog)."""
    return {
        "transaction_id": transaction_id,
        "transaction_date": "2024-05-06",
        "store_id": "S-001",
        "product_id": "HP-001",
        "basket_id": f"B-{transaction_id}",
        "category": "Beverages",
        "quantity": 2,
        "unit_price": "25.50",
        "amount": "51.00",
        "payment_method": "cash",
        "status": "completed",
    }
