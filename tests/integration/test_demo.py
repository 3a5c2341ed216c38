"""`workbench demo` against a configured server (POSTGRES_* set): it must use that server, leave
the tables there and print a summary whose numbers match the database."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest

from workbench import cli

pytestmark = pytest.mark.integration


def test_demo_uses_the_configured_server_and_summarises_it(
    pg_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    workdir = tmp_path / "demo"

    code = cli.main(["demo", "--workdir", str(workdir), "--transactions", "20000", "--skip-docs"])

    assert code == 0
    assert not (workdir / "pgdata").exists(), "an embedded server was started"
    summary = json.loads((workdir / "summary.json").read_text())
    conninfo = " ".join(
        f"{k}={os.environ[v]}"
        for k, v in {
            "host": "POSTGRES_HOST",
            "port": "POSTGRES_PORT",
            "user": "POSTGRES_USER",
            "password": "POSTGRES_PASSWORD",
            "dbname": "POSTGRES_DB",
        }.items()
    )
    with psycopg.connect(conninfo) as conn:
        silver = conn.execute("select count(*) from silver.silver_validated_transactions")
        assert summary["rows"]["silver.silver_validated_transactions"] == silver.fetchone()[0]
        rejected = dict(
            conn.execute(
                "select rejection_reason, count(*) from silver.silver_rejected_transactions"
                " group by 1"
            ).fetchall()
        )
    assert summary["rejected_by_reason"] == rejected
    assert summary["tests"].get("pass", 0) >= 40
    assert set(summary["tests"]) == {"pass"} or set(summary["tests"]) == {"pass", "warn"}
    assert summary["anomalies"]["injected"] > 0
    assert all(count > 0 for count in summary["rows"].values())
    printed = capsys.readouterr().out
    assert "dbt Workbench demo — summary" in printed
    assert f"{summary['rows']['silver.silver_validated_transactions']:,}" in printed


def test_demo_without_a_configured_server_runs_on_an_embedded_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The laptop path of `make demo`: no POSTGRES_*, pgserver under the work directory, docs on
    disk, then the server is stopped (its data kept)."""
    for key in (
        "POSTGRES_HOST",
        "POSTGRES_PORT",
        "POSTGRES_USER",
        "POSTGRES_PASSWORD",
        "POSTGRES_DB",
        "POSTGRES_SSLMODE",
    ):
        monkeypatch.delenv(key, raising=False)
    target = tmp_path / "target"
    monkeypatch.setenv("DBT_TARGET_PATH", str(target))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    workdir = tmp_path / "demo"

    code = cli.main(["demo", "--workdir", str(workdir), "--transactions", "20000"])

    assert code == 0
    assert (workdir / "pgdata" / "PG_VERSION").exists()
    assert not (workdir / "pgdata" / "postmaster.pid").exists(), "embedded server left running"
    summary = json.loads((workdir / "summary.json").read_text())
    assert summary["rows"]["gold.gold_category_trends"] > 0
    assert summary["docs_path"] == str(target / "index.html")
    index = (target / "index.html").read_text()
    assert "<html" in index.lower()
    assert (target / "catalog.json").exists()
    assert "Embedded PostgreSQL stopped" in capsys.readouterr().out
