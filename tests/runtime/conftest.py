"""Fixtures for the runtime tests: a database per module, tiny dbt projects, a Pushgateway."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.pgcluster import PostgresCluster
from tests.runtime.servers import Pushgateway, start_pushgateway


def _admin_conninfo(cluster: PostgresCluster) -> str:
    env = cluster.env()
    return (
        f"host={env['POSTGRES_HOST']} port={env['POSTGRES_PORT']} user={env['POSTGRES_USER']} "
        f"password={env['POSTGRES_PASSWORD']} dbname=postgres"
    )


@pytest.fixture(scope="module")
def module_pg_env(pg_cluster: PostgresCluster) -> Iterator[dict[str, str]]:
    """Like pg_env, but one database shared by a module's (expensive) dbt runs."""
    name = f"rt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_conninfo(pg_cluster), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_cluster.env(name)
    with psycopg.connect(_admin_conninfo(pg_cluster), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
