"""Fixtures for the reliability tests: one small generated dataset, ingested once as a template."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgcluster import PostgresCluster
from tests.reliability.support import (
    Database,
    create_database,
    drop_database,
    workbench,
    workbench_env,
)

# Big enough that `workbench run --layer all` spends seconds in SQL (a kill lands mid-run),
# small enough to keep this suite within its budget.
DATASET_TRANSACTIONS = 30_000


@pytest.fixture(scope="session")
def dataset_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reliability-data")
    code = workbench(
        "sample-data",
        "--out",
        str(out),
        "--transactions",
        str(DATASET_TRANSACTIONS),
        "--seed",
        "11",
    )
    assert code == 0
    return out


def ingest_dataset(db: Database, data: Path, workdir: Path) -> None:
    with workbench_env(db, workdir):
        assert workbench("ingest", str(data / "products.jsonl"), "--entity", "products") == 0
        files = sorted(str(p) for p in data.glob("transactions-*.jsonl"))
        assert files
        assert workbench("ingest", *files, "--entity", "transactions") == 0


@pytest.fixture(scope="session")
def landed_template(
    pg_cluster: PostgresCluster, dataset_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A database holding the dataset in raw landing and nothing else; copy it, never use it."""
    db = create_database(pg_cluster)
    ingest_dataset(db, dataset_dir, tmp_path_factory.mktemp("template-ingest"))
    try:
        yield db
    finally:
        drop_database(pg_cluster, db)
