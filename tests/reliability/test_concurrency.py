"""Concurrent landings lose nothing and duplicate nothing.

- two `workbench ingest` processes of the same file at once land it exactly once;
- a landing that commits after a later one (a long batch file's INSERT still running while a
  webhook batch lands and the hourly runs go) still reaches bronze and silver: raw_id is
  allocated at insert time, not at commit time, so "raw_id > max(raw_id) already processed"
  can skip it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.reliability.corpus.build import PRODUCTS_FILE
from tests.reliability.support import (
    Database,
    subprocess_env,
    valid_sale,
    workbench,
    workbench_env,
    workbench_executable,
)

pytestmark = pytest.mark.integration


def test_two_simultaneous_ingests_of_one_file_land_it_once(
    pg_env: dict[str, str], dataset_dir: Path, tmp_path: Path
) -> None:
    db = Database(pg_env)
    files = sorted(str(p) for p in dataset_dir.glob("transactions-*.jsonl"))
    env = subprocess_env(db, tmp_path)
    argv = [workbench_executable(), "ingest", *files, "--entity", "transactions"]
    first = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert first.wait(timeout=300) == 0, first.stderr.read() if first.stderr else ""
    assert second.wait(timeout=300) == 0, second.stderr.read() if second.stderr else ""
    lines = sum(1 for f in files for line in Path(f).read_bytes().split(b"\n") if line.strip())
    landed = db.scalar("select count(*) from raw.transactions")
    errors = db.scalar("select count(*) from raw.ingest_errors")
    assert landed + errors == lines
    assert (
        db.scalar(
            "select count(*) from (select source_file, source_row from raw.transactions"
            " group by 1, 2 having count(*) > 1) d"
        )
        == 0
    )


_LAND = (
    "insert into raw.transactions"
    " (payload, source, source_file, source_row, batch_id, payload_sha256)"
    " values (%s::jsonb, 'jsonl', %s, %s, %s,"
    " encode(sha256(convert_to(%s::jsonb::text, 'UTF8')), 'hex'))"
)


def test_rows_committed_out_of_raw_id_order_still_reach_bronze_and_silver(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    """Two landings overlap: the long one got its raw_ids first and commits last.

    Simulated with the loader's own INSERT on two connections, because `workbench ingest`
    cannot be paused between its INSERT and its COMMIT.
    """
    db = Database(pg_env)
    with workbench_env(db, tmp_path):
        assert workbench("ingest", str(PRODUCTS_FILE), "--entity", "products") == 0
    slow = db.connect()
    slow.autocommit = False
    late = json.dumps(valid_sale("LATE-1"))
    slow.execute(_LAND, (late, "/landing/big-batch.jsonl", 1, "slow", late))
    with db.connect() as quick:
        for i in range(3):
            early = json.dumps(valid_sale(f"QUICK-{i}"))
            quick.execute(_LAND, (early, "/landing/webhook.jsonl", i + 1, "quick", early))
    selection = (
        "--select",
        "tag:bronze tag:silver",
        "--exclude",
        "resource_type:test resource_type:unit_test",
    )
    try:
        with workbench_env(db, tmp_path):
            assert workbench("run", "--layer", "silver", *selection) == 0
            slow.commit()
            assert workbench("run", "--layer", "silver", *selection) == 0
    finally:
        slow.close()
    assert db.scalar("select count(*) from raw.transactions") == 4
    assert db.scalar("select count(*) from bronze.bronze_transactions") == 4, (
        "a landing committed after a later raw_id was processed never reached bronze"
    )
    assert (
        db.scalar(
            "select count(*) from silver.silver_validated_transactions"
            " where transaction_id = 'LATE-1'"
        )
        == 1
    )
