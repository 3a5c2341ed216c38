"""Side services failing must not fail a run: a Pushgateway or S3 endpoint that refuses
connections, or a Pushgateway that accepts and never answers. The run keeps its exit code and
its data, and the failure is logged.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pgcluster import PostgresCluster, free_port
from tests.reliability.support import (
    Database,
    create_database,
    drop_database,
    subprocess_env,
    workbench_executable,
)

pytestmark = pytest.mark.integration


@pytest.fixture()
def landed(pg_cluster: PostgresCluster, landed_template: Database) -> Iterator[Database]:
    db = create_database(pg_cluster, template=landed_template.name)
    try:
        yield db
    finally:
        drop_database(pg_cluster, db)


@pytest.fixture()
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections (kernel backlog) and never sends a byte."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def _run(db: Database, workdir: Path, extra: dict[str, str]) -> tuple[int, list[dict[str, object]]]:
    done = subprocess.run(
        [workbench_executable(), "run", "--layer", "bronze"],
        env=subprocess_env(db, workdir, extra),
        capture_output=True,
        timeout=300,
        check=False,
    )
    events = []
    for line in (done.stdout + done.stderr).decode().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return done.returncode, events


def _bronze_count(db: Database) -> int:
    count: int = db.scalar("select count(*) from bronze.bronze_transactions")
    return count


def test_pushgateway_and_s3_refusing_connections_change_nothing(
    landed: Database, tmp_path: Path
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    down = {
        "PUSHGATEWAY_URL": closed,
        "AWS_ENDPOINT_URL": closed,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_DEFAULT_REGION": "us-east-1",
        "WORKBENCH_ARTIFACTS_URL": "s3://dbt-artifacts/runs",
    }
    code, events = _run(landed, tmp_path, down)
    assert code == 0  # what the same run returns with every service up (the template's data)
    assert _bronze_count(landed) == landed.scalar("select count(*) from raw.transactions") > 0
    for event in ("metrics_push_failed", "artifacts_publish_failed"):
        failures = [e for e in events if e.get("event") == event]
        assert len(failures) == 1, (event, events)
        assert failures[0]["level"] == "warning"
    finished = [e for e in events if e.get("event") == "dbt_invocation"]
    assert finished and finished[-1]["exit_code"] == 0


def test_a_pushgateway_that_never_answers_cannot_hang_the_run(
    landed: Database, silent_server: str, tmp_path: Path
) -> None:
    code, events = _run(landed, tmp_path, {"PUSHGATEWAY_URL": silent_server})
    assert code == 0
    assert _bronze_count(landed) > 0
    failures = [e for e in events if e.get("event") == "metrics_push_failed"]
    assert len(failures) == 1, events
    assert "timed out" in str(failures[0]["error"]).lower()
