"""Issue 2 acceptance, end to end on a real PostgreSQL 15: sample data → ingest → all layers.

One pipeline is built per module (default demo size, 2 % bad records) and every assertion reads
the data it produced: reconciliation against the generator's expected.json, anomaly detection
against its ground truth, idempotent re-ingest and re-run, and an incremental run after 1 % new
rows that processes only those rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.dbt_support import connect
from tests.pgcluster import PostgresCluster
from workbench import cli
from workbench.demo.scoring import read_ground_truth, score
from workbench.demo.summary import flagged_anomalies

pytestmark = pytest.mark.integration

TRANSACTIONS = 120_000


@dataclass
class Pipeline:
    env: dict[str, str]
    data_dir: Path
    target: Path
    expected: dict[str, Any]
    run_exit: int

    def conn(self) -> psycopg.Connection[Any]:
        return connect(self.env)

    def scalar(self, query: str) -> Any:
        with self.conn() as conn:
            row = conn.execute(query).fetchone()
            assert row is not None
            return row[0]

    def run_results(self) -> dict[str, Any]:
        return json.loads((self.target / "run_results.json").read_text())


def _workbench(*argv: str) -> int:
    return cli.main(list(argv))


@pytest.fixture(scope="module")
def pipeline(
    pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Pipeline]:
    name = "e2e_pipeline"
    with psycopg.connect(**_admin(pg_cluster), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    env = pg_cluster.env(name)
    workdir = tmp_path_factory.mktemp("e2e")
    target = workdir / "target"
    saved = dict(os.environ)
    os.environ.update(env)
    os.environ["DBT_TARGET_PATH"] = str(target)
    os.environ["DBT_LOG_PATH"] = str(workdir / "logs")
    try:
        data_dir = workdir / "data"
        assert (
            _workbench(
                "sample-data",
                "--out",
                str(data_dir),
                "--transactions",
                str(TRANSACTIONS),
                "--bad-share",
                "0.02",
                "--seed",
                "7",
            )
            == 0
        )
        assert _workbench("ingest", str(data_dir / "products.jsonl"), "--entity", "products") == 0
        assert (
            _workbench("ingest", str(data_dir / "transactions-*.jsonl"), "--entity", "transactions")
            == 0
        )
        run_exit = _workbench("run", "--layer", "all")
        expected = json.loads((data_dir / "expected.json").read_text())
        yield Pipeline(env, data_dir, target, expected, run_exit)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _admin(cluster: PostgresCluster) -> dict[str, Any]:
    e = cluster.env()
    return {
        "host": e["POSTGRES_HOST"],
        "port": e["POSTGRES_PORT"],
        "user": e["POSTGRES_USER"],
        "password": e["POSTGRES_PASSWORD"],
        "dbname": "postgres",
    }


MODELS = {
    "bronze": ["bronze_transactions", "bronze_products"],
    "silver": ["silver_validated_transactions", "silver_rejected_transactions", "silver_products"],
    "gold": ["gold_monthly_summary", "gold_category_trends"],
    "platinum": ["platinum_transaction_embeddings", "platinum_product_recommendations"],
}


def _table_digest(p: Pipeline, schema: str, table: str) -> tuple[int, str]:
    """Row count and an md5 of every row, ordered: equal digests mean equal contents."""
    with p.conn() as conn:
        rows = conn.execute(f"select t::text from {schema}.{table} t order by 1").fetchall()
    digest = hashlib.md5(usedforsecurity=False)
    for (text,) in rows:
        digest.update(text.encode())
    return len(rows), digest.hexdigest()


def _rows_affected(p: Pipeline) -> dict[str, Any]:
    """rows_affected per model of the last dbt invocation, as dbt reports it."""
    return {
        r["unique_id"].split(".")[-1]: r.get("adapter_response", {}).get("rows_affected")
        for r in p.run_results()["results"]
        if r["unique_id"].startswith("model.")
    }


def test_every_model_built_with_rows_and_all_dbt_tests_pass(pipeline: Pipeline) -> None:
    assert pipeline.run_exit == 0, "dbt build reported a failing model or test"
    statuses = {r["unique_id"]: r["status"] for r in pipeline.run_results()["results"]}
    tests = {k: v for k, v in statuses.items() if k.startswith(("test.", "unit_test."))}
    assert len(tests) >= 40
    assert set(tests.values()) <= {"pass"}, {k: v for k, v in tests.items() if v != "pass"}
    for schema, models in MODELS.items():
        for model in models:
            assert pipeline.scalar(f"select count(*) from {schema}.{model}") > 0, model


def test_reconciliation_matches_what_the_generator_wrote(pipeline: Pipeline) -> None:
    exp = pipeline.expected
    bronze = pipeline.scalar("select count(*) from bronze.bronze_transactions")
    silver = pipeline.scalar("select count(*) from silver.silver_validated_transactions")
    rejected = pipeline.scalar("select count(*) from silver.silver_rejected_transactions")
    errors = pipeline.scalar("select count(*) from raw.ingest_errors where entity = 'transactions'")
    assert bronze + errors == exp["transactions_records"]
    assert errors == exp["unparseable_lines"]
    assert silver == exp["valid_transactions"]
    assert bronze == silver + rejected + exp["superseded"]
    with pipeline.conn() as conn:
        by_reason = dict(
            conn.execute(
                "select rejection_reason, count(*)"
                " from silver.silver_rejected_transactions group by 1"
            ).fetchall()
        )
        no_reason = conn.execute(
            "select count(*) from silver.silver_rejected_transactions"
            " where rejection_reason is null or rejection_reason = ''"
        ).fetchone()
    assert by_reason == exp["rejected_by_reason"]
    assert no_reason == (0,)


def test_anomaly_detection_recall_and_precision(pipeline: Pipeline) -> None:
    injected = read_ground_truth(pipeline.data_dir / "anomalies.csv")
    with pipeline.conn() as conn:
        result = score(injected, flagged_anomalies(conn))
    print(
        f"anomalies: recall={result.recall:.2f} precision={result.precision:.2f} "
        f"({result.true_positives}/{result.injected} injected, {result.flagged} flagged)"
    )
    assert result.injected >= 10
    assert result.recall >= 0.8
    assert result.precision >= 0.8


def test_reingesting_the_same_files_adds_nothing(pipeline: Pipeline) -> None:
    before = pipeline.scalar("select count(*) from raw.transactions")
    errors_before = pipeline.scalar("select count(*) from raw.ingest_errors")
    assert (
        _workbench(
            "ingest", str(pipeline.data_dir / "transactions-*.jsonl"), "--entity", "transactions"
        )
        == 0
    )
    assert pipeline.scalar("select count(*) from raw.transactions") == before
    assert pipeline.scalar("select count(*) from raw.ingest_errors") == errors_before


def test_rerun_without_new_data_changes_nothing_in_silver_and_gold(
    pipeline: Pipeline, capsys: pytest.CaptureFixture[str]
) -> None:
    """Also: this PostgreSQL 15 has no pgvector, so the embed after the platinum build is
    skipped, said once, and the run still ends 0 (the dbt layer does not need pgvector)."""
    tables = [(s, m) for s in ("silver", "gold") for m in MODELS[s]]
    before = {t: _table_digest(pipeline, *t) for t in tables}
    capsys.readouterr()
    assert _workbench("run", "--layer", "all", "--log-format", "json") == 0
    logged = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line[:1] == "{"]
    embed_events = [event for event in logged if event["event"].startswith("embed.")]
    assert [event["event"] for event in embed_events] == ["embed.skipped"]
    assert "no pgvector extension" in embed_events[0]["reason"]
    after = {t: _table_digest(pipeline, *t) for t in tables}
    changed = [t for t in tables if before[t][1] != after[t][1]]
    assert not changed
    affected = _rows_affected(pipeline)
    assert affected["bronze_transactions"] == 0
    assert affected["silver_validated_transactions"] == 0


def test_incremental_run_processes_only_the_new_rows(pipeline: Pipeline, tmp_path: Path) -> None:
    """Ingest 1 % new, valid transactions; bronze and silver must touch exactly those rows."""
    with pipeline.conn() as conn:
        rows = conn.execute(
            "select payload from raw.transactions r join silver.silver_validated_transactions s"
            " on s.transaction_id = r.payload->>'transaction_id'"
            " and s.raw_id = r.raw_id order by r.raw_id limit %s",
            (TRANSACTIONS // 100,),
        ).fetchall()
    new_file = tmp_path / "transactions-increment.jsonl"
    with new_file.open("w") as handle:
        for i, (payload,) in enumerate(rows):
            record = dict(payload)
            record["transaction_id"] = f"INC-{i:06d}"
            handle.write(json.dumps(record) + "\n")
    new_rows = len(rows)
    silver_before = pipeline.scalar("select count(*) from silver.silver_validated_transactions")
    assert _workbench("ingest", str(new_file), "--entity", "transactions") == 0
    assert _workbench("run", "--layer", "bronze") == 0
    assert _rows_affected(pipeline)["bronze_transactions"] == new_rows
    assert _workbench("run", "--layer", "silver") == 0
    assert _rows_affected(pipeline)["silver_validated_transactions"] == new_rows
    silver_after = pipeline.scalar("select count(*) from silver.silver_validated_transactions")
    assert silver_after - silver_before == new_rows
