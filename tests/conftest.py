"""Shared fixtures: one real PostgreSQL cluster per test session, a fresh database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from tests.pgcluster import PostgresCluster, temporary_cluster, temporary_database


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    with temporary_cluster("workbench-pg-") as cluster:
        yield cluster


@pytest.fixture()
def pg_env(pg_cluster: PostgresCluster) -> Iterator[dict[str, str]]:
    """POSTGRES_* settings for a brand-new empty database, dropped after the test."""
    with temporary_database(pg_cluster, "t") as env:
        yield env


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
