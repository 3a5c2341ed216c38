"""Shared fixtures: one real PostgreSQL cluster per test session, a fresh database per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from moto.server import ThreadedMotoServer

from tests.pgcluster import PostgresCluster, temporary_cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    with temporary_cluster("workbench-pg-") as cluster:
        yield cluster


@pytest.fixture()
def pg_env(pg_cluster: PostgresCluster) -> Iterator[dict[str, str]]:
    """POSTGRES_* settings for a brand-new empty database, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = pg_cluster.env()
    conninfo = (
        f"host={admin['POSTGRES_HOST']} port={admin['POSTGRES_PORT']} "
        f"user={admin['POSTGRES_USER']} password={admin['POSTGRES_PASSWORD']} dbname=postgres"
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_cluster.env(name)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3 API over HTTP on loopback (moto in server mode); no MinIO is reachable here."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
