"""`workbench docs` end to end: real dbt docs generate on a real PostgreSQL, publish to S3 (moto
server over HTTP). A tiny throwaway dbt project keeps it fast and independent of dbt/."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import boto3
import pytest

from tests.pgcluster import TEST_PASSWORD, free_port
from workbench import cli
from workbench.config import PROJECT_ROOT
from workbench.contract import ExitCode

pytestmark = pytest.mark.integration

MODEL_SQL = "select 1::int as order_id, 12.50::numeric(12, 2) as amount\n"
MODEL_YML = """\
models:
  - name: orders
    description: "One row per order."
    columns:
      - name: order_id
        description: "The order key."
"""


@pytest.fixture()
def project(
    tmp_path: Path, pg_env: dict[str, str], s3_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> Path:
    root = tmp_path / "tiny"
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        'name: tiny\nversion: "1.0"\nconfig-version: 2\nprofile: scout_retail\n'
    )
    shutil.copy(PROJECT_ROOT / "dbt" / "profiles.yml", root / "profiles.yml")
    (root / "models" / "orders.sql").write_text(MODEL_SQL)
    (root / "models" / "orders.yml").write_text(MODEL_YML)
    for name, value in pg_env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DBT_PROJECT_DIR", str(root))
    for name in ("DBT_TARGET_PATH", "DBT_PARTIAL_PARSE_FILE_PATH", "DBT_TARGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "dbt-logs"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return root


def _events(captured: str) -> dict[str, dict[str, object]]:
    """cli.main logs JSON lines to stderr (not a terminal under capture)."""
    lines = [json.loads(line) for line in captured.splitlines() if line.startswith("{")]
    return {line["event"]: line for line in lines}


def _dbt_run(project: Path) -> None:
    from dbt.cli.main import dbtRunner

    args = ["run", "--project-dir", str(project), "--profiles-dir", str(project)]
    assert dbtRunner().invoke([*args, "--log-level", "none"]).success


def test_generate_and_publish_with_the_preceding_runs_artifacts(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = f"docs-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    _dbt_run(project)

    code = cli.main(["docs", "--publish", f"s3://{bucket}/scout", "--version-id", "it-1"])

    assert code == 0
    target = project / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    columns = catalog["nodes"]["model.tiny.orders"]["columns"]
    assert set(columns) == {"order_id", "amount"}
    assert columns["amount"]["type"] == "numeric(12,2)"
    assert (target / "static_index.html").stat().st_size > 0
    s3 = boto3.client("s3")
    index = s3.get_object(Bucket=bucket, Key="scout/latest/index.html")
    assert index["ContentType"] == "text/html; charset=utf-8"
    assert index["Body"].read() == (target / "index.html").read_bytes()
    published_catalog = s3.get_object(Bucket=bucket, Key="scout/versions/it-1/catalog.json")
    assert json.loads(published_catalog["Body"].read()) == catalog
    # artifacts/ holds the run before the docs, the one `dbt retry` needs, not docs generate's own.
    run_results = s3.get_object(Bucket=bucket, Key="scout/latest/artifacts/run_results.json")
    results = json.loads(run_results["Body"].read())
    assert results["args"]["which"] == "run"
    assert [r["unique_id"] for r in results["results"]] == ["model.tiny.orders"]
    captured = capsys.readouterr()
    events = _events(captured.err)
    assert events["docs_published"]["version_id"] == "it-1"
    assert events["docs_published"]["latest_url"] == f"s3://{bucket}/scout/latest/"
    assert TEST_PASSWORD not in captured.err + captured.out

    # A second publish without the static page: the old one in target/ is not published, and
    # latest/ drops it while versions/it-1 keeps it.
    code = cli.main(
        ["docs", "--no-static", "--publish", f"s3://{bucket}/scout", "--version-id", "it-2"]
    )

    assert code == 0
    latest = {
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="scout/latest/")["Contents"]
    }
    assert "scout/latest/static_index.html" not in latest
    assert "scout/latest/index.html" in latest
    s3.head_object(Bucket=bucket, Key="scout/versions/it-1/static_index.html")
    marker = json.loads(
        s3.get_object(Bucket=bucket, Key="scout/latest/_version.json")["Body"].read()
    )
    assert marker["version_id"] == "it-2"


def test_unreachable_database_exits_2_and_publishes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"docs-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    monkeypatch.setenv("POSTGRES_PORT", str(free_port()))

    code = cli.main(["docs", "--publish", f"s3://{bucket}/scout"])

    assert code == 2
    failure = _events(capsys.readouterr().err)["docs_generate_failed"]
    assert "cannot connect to PostgreSQL" in str(failure["error"])
    assert "Contents" not in boto3.client("s3").list_objects_v2(Bucket=bucket)


def test_a_model_that_does_not_compile_exits_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "models" / "broken.sql").write_text("select * from {{ ref('no_such_model') }}\n")

    assert cli.main(["docs"]) == 1
    failure = _events(capsys.readouterr().err)["docs_generate_failed"]
    assert "does not compile" in str(failure["error"])
    assert "no_such_model" in str(failure["error"])


def test_a_failed_catalog_points_to_the_dbt_log_file_that_says_why(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # PostgreSQL cannot read another database's catalog: dbt reports a failed catalog query
    # without raising, so the only account of what failed is dbt's own log file.
    (project / "models" / "elsewhere.yml").write_text(
        "sources:\n  - name: elsewhere\n    database: some_other_db\n    tables:\n"
        "      - name: orders\n"
    )

    assert cli.main(["docs"]) == 1

    log_file = tmp_path / "dbt-logs" / "dbt.log"  # DBT_LOG_PATH set by the fixture
    failure = str(_events(capsys.readouterr().err)["docs_generate_failed"]["error"])
    assert "failed nodes" in failure
    assert str(log_file) in failure
    logged = [json.loads(line) for line in log_file.read_text().splitlines()]
    problems = [
        line["info"]["msg"] for line in logged if line["info"]["level"] in {"warn", "error"}
    ]
    assert any("Cross-db references not allowed" in message for message in problems), problems
    # The file holds dbt's debug detail, not only the error lines.
    assert any(line["info"]["level"] == "debug" for line in logged)


def test_unreachable_s3_exits_2_after_generating(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")

    code = cli.main(["docs", "--no-static", "--publish", "s3://docs-bucket/scout"])

    assert code == 2
    events = _events(capsys.readouterr().err)
    assert "docs_generated" in events
    assert "failed while uploading the versioned copy" in str(
        events["docs_publish_failed"]["error"]
    )
    assert (project / "target" / "index.html").is_file()
    assert not (project / "target" / "static_index.html").exists()


def test_bad_publish_url_exits_3_before_dbt_starts(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli.main(["docs", "--publish", "https://example.com/docs"]) == ExitCode.CONFIGURATION_ERROR
    )
    assert "s3://bucket/prefix" in str(
        _events(capsys.readouterr().err)["docs_invalid_arguments"]["error"]
    )
    assert not (project / "target").exists()


def test_docs_of_the_real_project_on_an_empty_database(
    tmp_path: Path, pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The project in dbt/ documents every DESIGN §2 model even before any data arrived."""
    for name, value in pg_env.items():
        monkeypatch.setenv(name, value)
    for name in ("DBT_PROJECT_DIR", "DBT_TARGET_PATH", "DBT_PARTIAL_PARSE_FILE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    target = tmp_path / "target"

    assert cli.main(["docs", "--target-path", str(target)]) == 0

    manifest = json.loads((target / "manifest.json").read_text())
    models = {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    for name in (
        "bronze_transactions",
        "silver_validated_transactions",
        "gold_category_trends",
        "platinum_product_recommendations",
    ):
        assert models[name]["description"].strip(), f"{name} has no description in the docs"
    assert (target / "static_index.html").stat().st_size > (target / "index.html").stat().st_size
