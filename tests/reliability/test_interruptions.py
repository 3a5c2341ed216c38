"""Interrupted runs converge: a SIGKILLed run and a database restart, each followed by a rerun,
leave exactly the tables an uninterrupted run leaves (full contents compared, run-time stamp
columns aside).

Both sides start from copies of one landed database (CREATE DATABASE ... TEMPLATE), so raw
ids and landing times are identical and any difference is the run's doing.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgcluster import PostgresCluster, temporary_cluster
from tests.reliability.conftest import ingest_dataset
from tests.reliability.support import (
    Database,
    create_database,
    drop_database,
    subprocess_env,
    workbench,
    workbench_env,
    workbench_executable,
)

pytestmark = pytest.mark.integration

ALL_MODELS = ("bronze", "silver", "gold", "platinum")


def _start_run(db: Database, workdir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [workbench_executable(), "run", "--layer", "all"],
        env=subprocess_env(db, workdir),
        stdout=(workdir / "run.out").open("wb"),
        stderr=subprocess.STDOUT,
    )


def _wait_for_first_model_sql(
    db: Database, process: subprocess.Popen[bytes], timeout: float = 120.0
) -> float:
    """Monotonic time at which a statement of a dbt model node is seen running in `db`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        running = db.scalar(
            "select count(*) from pg_stat_activity where datname = current_database()"
            ' and query like \'%%"node_id": "model.%%\''
        )
        if running:
            return time.monotonic()
        time.sleep(0.05)
    raise AssertionError("the run never started a model")


@pytest.fixture(scope="module")
def reference(
    pg_cluster: PostgresCluster, landed_template: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, str], float]]:
    """Digests after one uninterrupted run (subprocess, like the killed one) and how long it
    spent from its first model statement to its exit."""
    db = create_database(pg_cluster, template=landed_template.name)
    workdir = tmp_path_factory.mktemp("reference")
    try:
        process = _start_run(db, workdir)
        first_model = _wait_for_first_model_sql(db, process)
        assert process.wait(timeout=300) == 0, (workdir / "run.out").read_text()[-3000:]
        duration = time.monotonic() - first_model
        yield db.digests(ALL_MODELS), duration
    finally:
        drop_database(pg_cluster, db)


@pytest.mark.parametrize("seed", [3, 6])
def test_a_run_killed_at_a_random_point_then_rerun_equals_an_uninterrupted_run(
    pg_cluster: PostgresCluster,
    landed_template: Database,
    reference: tuple[dict[str, str], float],
    tmp_path: Path,
    seed: int,
) -> None:
    expected, duration = reference
    # Somewhere in the SQL phase of the build; the seed makes a failure replayable.
    delay = random.Random(seed).uniform(0.05 * duration, 0.8 * duration)  # noqa: S311
    db = create_database(pg_cluster, template=landed_template.name)
    try:
        process = _start_run(db, tmp_path)
        _wait_for_first_model_sql(db, process)
        time.sleep(delay)
        assert process.poll() is None, f"the run finished before the kill {delay:.1f}s into its SQL"
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
        with workbench_env(db, tmp_path / "rerun"):
            assert workbench("run", "--layer", "all") == 0, f"rerun after a kill at {delay:.1f}s"
        assert db.digests(ALL_MODELS) == expected, f"killed at {delay:.1f}s"
    finally:
        drop_database(pg_cluster, db)


@pytest.fixture()
def own_cluster() -> Iterator[PostgresCluster]:
    """A server of its own: restarting the session's shared one would disturb other tests."""
    with temporary_cluster("workbench-restart-") as cluster:
        yield cluster


def _wait_for_blocked_dbt_query(db: Database, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        blocked = db.scalar(
            "select count(*) from pg_stat_activity where datname = current_database()"
            " and wait_event_type = 'Lock' and query like '%%\"node_id\": %%'"
        )
        if blocked:
            return
        time.sleep(0.2)
    raise AssertionError("no dbt node of the run ever waited on the held raw table")


def test_database_restart_mid_run_exits_2_and_a_rerun_converges(
    own_cluster: PostgresCluster, dataset_dir: Path, tmp_path: Path
) -> None:
    landed = create_database(own_cluster)
    ingest_dataset(landed, dataset_dir, tmp_path / "ingest")
    interrupted = create_database(own_cluster, template=landed.name)
    uninterrupted = create_database(own_cluster, template=landed.name)
    with workbench_env(uninterrupted, tmp_path / "reference"):
        assert workbench("run", "--layer", "all") == 0
    # Hold the raw table so the run is deterministically inside a model when the server goes.
    blocker = interrupted.connect()
    blocker.autocommit = False
    blocker.execute("lock table raw.transactions in access exclusive mode")
    process = _start_run(interrupted, tmp_path)
    try:
        _wait_for_blocked_dbt_query(interrupted)
        own_cluster.restart()
        code = process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
        blocker.close()
    output = (tmp_path / "run.out").read_text()
    assert code == 2, output[-3000:]
    with workbench_env(interrupted, tmp_path / "rerun"):
        assert workbench("run", "--layer", "all") == 0
    assert interrupted.digests(ALL_MODELS) == uninterrupted.digests(ALL_MODELS)
