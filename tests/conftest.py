"""Shared fixtures: one real PostgreSQL cluster per test session, a fresh database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from tests.moto_state import reset_moto
from tests.pgcluster import PostgresCluster, temporary_cluster, temporary_database

# Fixtures that start a server (PostgreSQL, an S3 API, a Pushgateway): a test that uses one,
# directly or through another fixture, is an integration test and must say so.
SERVER_FIXTURES = frozenset({"pg_cluster", "s3_endpoint", "pushgateway"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`make test-fast` (-m "not integration") must never start a server: a test that needs one
    without the `integration` marker fails collection, naming itself."""
    unmarked = [
        item.nodeid
        for item in items
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("integration") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests start a server but lack pytestmark = pytest.mark.integration:\n  "
            + "\n  ".join(unmarked)
        )


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
    reset_moto(f"http://{host}:{port}")
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
