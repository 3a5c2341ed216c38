"""A throwaway PostgreSQL server per benchmark, so every bench is self-contained."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from tests.pgcluster import PostgresCluster, temporary_cluster


@dataclass(frozen=True)
class BenchServer:
    cluster: PostgresCluster

    def env(self, dbname: str) -> dict[str, str]:
        return self.cluster.env(dbname)

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[Any]:
        e = self.cluster.env(dbname)
        return psycopg.connect(
            host=e["POSTGRES_HOST"],
            port=e["POSTGRES_PORT"],
            user=e["POSTGRES_USER"],
            password=e["POSTGRES_PASSWORD"],
            dbname=dbname,
            autocommit=True,
        )

    def create_database(self, name: str, template: str | None = None) -> None:
        with self.connect() as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
            statement = sql.SQL("create database {}").format(sql.Identifier(name))
            if template:
                statement += sql.SQL(" template {}").format(sql.Identifier(template))
            conn.execute(statement)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )

    def scalar(self, dbname: str, query: str) -> Any:
        with self.connect(dbname) as conn:
            row = conn.execute(query.encode()).fetchone()
        return None if row is None else row[0]

    def version(self) -> str:
        return str(self.scalar("postgres", "show server_version"))

    @property
    def log_file(self) -> Path:
        return self.cluster.datadir / "server.log"

    def log_every_statement(self) -> None:
        """Every statement with a millisecond UTC timestamp in server.log (start-up bench)."""
        with self.connect() as conn:
            conn.execute("alter system set log_statement = 'all'")
            conn.execute("alter system set log_line_prefix = '%m [%p] '")
            conn.execute("alter system set log_timezone = 'UTC'")
            conn.execute("select pg_reload_conf()")


@contextlib.contextmanager
def throwaway_server(workdir: Path, name: str, *, pgvector: bool = False) -> Iterator[BenchServer]:
    """With `pgvector`, from server binaries that have the extension (pgserver's PostgreSQL 16)."""
    with temporary_cluster(f"bench-{name}-pg-", workdir, pgvector=pgvector) as cluster:
        yield BenchServer(cluster)
