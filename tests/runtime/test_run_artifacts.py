"""`workbench run` keeps its dbt artifacts on S3 (moto server over real HTTP) when asked to,
and an unreachable S3 never changes the run's exit code."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest

from tests.pgcluster import free_port
from tests.runtime.cli_runs import run_workbench
from tests.runtime.dbt_projects import runner_env, write_project

pytestmark = pytest.mark.integration

MODEL = {"models/numbers.sql": "select n from generate_series(1, 5) as n\n"}
S3_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def test_run_uploads_run_results_and_manifest_under_the_layer(
    pg_env: dict[str, str], tmp_path: Path, s3_endpoint: str
) -> None:
    bucket = f"runs-{uuid.uuid4().hex[:10]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, **_creds())
    s3.create_bucket(Bucket=bucket)
    project = write_project(tmp_path / "project", MODEL)
    env = runner_env(
        pg_env,
        project,
        tmp_path,
        AWS_ENDPOINT_URL=s3_endpoint,
        WORKBENCH_ARTIFACTS_URL=f"s3://{bucket}/scout",
        **S3_ENV,
    )
    run = run_workbench("run", "--layer", "silver", env=env)
    assert run.exit_code == 0, run.stderr
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    latest = "scout/runs/silver/latest/artifacts/"
    assert {latest + "run_results.json", latest + "manifest.json"} <= keys
    body = s3.get_object(Bucket=bucket, Key=latest + "run_results.json")["Body"].read()
    results = json.loads(body)["results"]
    assert [r["unique_id"] for r in results] == ["model.scout_retail.numbers"]
    assert any(k.startswith("scout/runs/silver/versions/") for k in keys)
    assert run.named("artifacts_published")


def test_unreachable_s3_is_logged_and_the_run_still_succeeds(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", MODEL)
    env = runner_env(
        pg_env,
        project,
        tmp_path,
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
        WORKBENCH_ARTIFACTS_URL="s3://nowhere/scout",
        AWS_MAX_ATTEMPTS="1",
        **S3_ENV,
    )
    run = run_workbench("run", "--layer", "silver", env=env)
    assert run.exit_code == 0
    assert run.named("artifacts_publish_failed")


def _creds() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_ENV["AWS_SECRET_ACCESS_KEY"],
        "region_name": S3_ENV["AWS_DEFAULT_REGION"],
    }
