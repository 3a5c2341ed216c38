"""Fixtures for the runtime tests: a database per module, tiny dbt projects, a Pushgateway."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgcluster import PostgresCluster, temporary_database
from tests.runtime.servers import Pushgateway, start_pushgateway


@pytest.fixture(scope="module")
def module_pg_env(pg_cluster: PostgresCluster) -> Iterator[dict[str, str]]:
    """Like pg_env, but one database shared by a module's (expensive) dbt runs."""
    with temporary_database(pg_cluster, "rt") as env:
        yield env


@pytest.fixture(scope="module")
def pushgateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushgateway]:
    gateway = start_pushgateway(tmp_path_factory.mktemp("pushgateway"))
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("runtime")
