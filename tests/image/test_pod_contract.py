"""The runtime image run exactly as the rendered WorkflowTemplate's pods, on a real PostgreSQL.

Every pod's command, args (the workflow parameters resolved as Argo resolves `-p layer=X`, see
tests/image/podspec.py), env, emptyDir volumes, security context and resource limits are read
from `helm template` of the chart; the engine runs them with host networking against the
session's PostgreSQL cluster and moto's S3. The template has no ingest step (producers land
data), so the sample data is generated and ingested by pods of the `dbt-run` spec with only
the command's arguments replaced.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest

from tests.image.conftest import (
    AWS_SECRET,
    DOCS_BUCKET,
    S3_KEYS,
    PodRun,
    PodRunner,
    postgres_secret,
)
from tests.image.podspec import PodSpec
from tests.pgcluster import TEST_PASSWORD, PostgresCluster, temporary_cluster
from workbench.contract import ExitCode

pytestmark = pytest.mark.integration  # the image's pods against a real PostgreSQL

REPO = Path(__file__).resolve().parents[2]
LAYERS = ("bronze", "silver", "gold", "platinum")  # in the order the schedules feed each other
SAMPLE = ["--transactions", "300", "--products", "30", "--stores", "5", "--weeks", "8"]
SAMPLE_DIR = "/tmp/sample"  # noqa: S108 - inside the pod's tmp emptyDir
# A refused password needs a person (never retried); a stopped database may come back (retried).
REFUSED_PASSWORD_EXIT = ExitCode.CONFIGURATION_ERROR
STOPPED_DATABASE_EXIT = ExitCode.RUNTIME_ERROR


def _command(*args: str) -> Callable[[PodSpec], None]:
    def override(pod: PodSpec) -> None:
        pod.args = list(args)

    return override


@dataclass
class Pipeline:
    db: dict[str, str]
    ingests: list[PodRun]
    layers: dict[str, PodRun]
    docs: PodRun
    expected: dict[str, Any]

    def all_runs(self) -> list[PodRun]:
        return [*self.ingests, *self.layers.values(), self.docs]

    def scalar(self, sql: str) -> Any:
        conninfo = " ".join(f"{k}={v}" for k, v in _libpq(self.db).items())
        with psycopg.connect(conninfo) as conn:
            row = conn.execute(sql.encode()).fetchone()
            assert row is not None
            return row[0]


def _libpq(env: dict[str, str]) -> dict[str, str]:
    return {
        "host": env["POSTGRES_HOST"],
        "port": env["POSTGRES_PORT"],
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"],
        "dbname": env["POSTGRES_DB"],
    }


def _aws_secret(endpoint: str) -> dict[str, dict[str, str]]:
    return {AWS_SECRET: S3_KEYS | {"AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "us-east-1"}}


@pytest.fixture(scope="module")
def pipeline(pods: PodRunner, pod_db: dict[str, str], s3_endpoint: str) -> Iterator[Pipeline]:
    secrets = postgres_secret(pod_db)
    generate = pods.run(
        "dbt-run", {}, secrets, override=_command("sample-data", "--out", SAMPLE_DIR, *SAMPLE)
    )
    assert generate.exit_code == 0, generate.stderr
    tmp = {"tmp": generate.volumes["tmp"]}  # the same pod's /tmp, as one pod would have it
    ingests = [generate]
    for entity, files in (("products", "products.jsonl"), ("transactions", "transactions-*")):
        ingests.append(
            pods.run(
                "dbt-run",
                {},
                secrets,
                override=_command("ingest", f"{SAMPLE_DIR}/{files}", "--entity", entity),
                shared=tmp,
            )
        )
    layers = {layer: pods.run("dbt-run", {"layer": layer}, secrets) for layer in LAYERS}
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **_boto_keys())
    s3.create_bucket(Bucket=DOCS_BUCKET)
    docs = pods.run("docs-publish", {}, secrets | _aws_secret(s3_endpoint))
    expected = json.loads((generate.volumes["tmp"] / "sample" / "expected.json").read_text())
    yield Pipeline(pod_db, ingests, layers, docs, expected)


def _boto_keys() -> dict[str, str]:
    return {
        "aws_access_key_id": S3_KEYS["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": S3_KEYS["AWS_SECRET_ACCESS_KEY"],
    }


def _models(layer: str) -> set[str]:
    return {p.stem for p in (REPO / "dbt" / "models" / layer).rglob("*.sql")}


def test_sample_data_is_ingested(pipeline: Pipeline) -> None:
    for run in pipeline.ingests:
        assert run.exit_code == ExitCode.SUCCESS, run.stderr
    assert (
        pipeline.scalar("select count(*) from raw.products")
        == (pipeline.expected["products_records"])
    )
    landed = pipeline.scalar("select count(*) from raw.transactions")
    errors = pipeline.scalar("select count(*) from raw.ingest_errors")
    assert landed == pipeline.expected["transactions_records"] - errors
    assert errors == pipeline.expected["unparseable_lines"]


@pytest.mark.parametrize("layer", LAYERS)
def test_every_layer_builds_its_models_in_the_pod(pipeline: Pipeline, layer: str) -> None:
    run = pipeline.layers[layer]
    assert run.exit_code == ExitCode.SUCCESS, run.stderr[-3000:]
    assert run.pod.args[:2] == ["run", f"--layer={layer}"]
    built = {
        e["node_id"].split(".")[-1]
        for e in run.named("dbt_node")
        if e["node_id"].startswith("model.") and e["status"] == "success"
    }
    assert built == _models(layer)
    for event in run.named("dbt_node"):
        assert event["layer"] == layer
        assert event["workflow_name"] == run.pod.env["WORKFLOW_NAME"]
        assert event["pod_name"] == run.pod.name


def test_the_platinum_pod_embeds_after_its_build_or_says_why_not(pipeline: Pipeline) -> None:
    """The platinum pod runs `workbench run --layer platinum`, which embeds after the build
    (workbench/jobs/run_then_embed.py). The image has no `embed` extra (docs/embeddings.md:
    the size budget), so the hashing fallback is named; Debian's PostgreSQL 15 has no
    pgvector, so the vectors are skipped, said once, and the pod still ends 0."""
    run = pipeline.layers["platinum"]
    assert run.exit_code == ExitCode.SUCCESS
    [fallback] = run.named("embed.provider_fallback")
    assert fallback["provider"] == "hashing"
    [skipped] = run.named("embed.skipped")
    assert "no pgvector extension" in skipped["reason"]
    assert not run.named("embed.failed")


def test_the_layers_hold_the_sample_data(pipeline: Pipeline) -> None:
    assert (
        pipeline.scalar("select count(*) from silver.silver_validated_transactions")
        == (pipeline.expected["valid_transactions"])
    )
    assert pipeline.scalar("select count(*) from gold.gold_monthly_summary") > 0
    assert (
        pipeline.scalar("select count(*) from platinum.platinum_transaction_embeddings")
        == pipeline.expected["valid_transactions"]
    )


def test_every_layer_reuses_the_preparsed_manifest(pipeline: Pipeline) -> None:
    for layer, run in pipeline.layers.items():
        (event,) = run.named("preparsed_manifest")
        assert event["reused"] is True, (layer, event)
        names = _dbt_event_names(run.volumes["dbt-logs"])
        assert "PartialParsingSkipParsing" in names, layer
        assert "UnableToPartialParse" not in names, layer


def _dbt_event_names(log_dir: Path) -> set[str]:
    """dbt's own file log (JSON lines, debug level), the rolled-over files included: it rolls
    at dbt_cli.LOG_FILE_MAX_BYTES, which one silver run's debug log exceeds."""
    return {
        json.loads(line)["info"]["name"]
        for dbt_log in sorted(log_dir.glob("dbt.log*"))
        for line in dbt_log.read_text().splitlines()
        if line
    }


def test_every_log_line_is_a_json_event(pipeline: Pipeline) -> None:
    for run in pipeline.all_runs():
        assert run.events, f"{run.pod.args} logged nothing"
        for event in run.events:
            assert {"timestamp", "level", "event"} <= event.keys(), event


def test_pods_write_only_to_their_volumes(pipeline: Pipeline) -> None:
    for run in pipeline.all_runs():
        assert run.pod.read_only_root, "the chart must keep readOnlyRootFilesystem"
        assert run.changed_paths == [], (run.pod.args, run.changed_paths)


def test_no_pod_output_carries_the_password(pipeline: Pipeline) -> None:
    assert pipeline.db["POSTGRES_PASSWORD"] == TEST_PASSWORD
    for run in pipeline.all_runs():
        assert TEST_PASSWORD not in run.outputs(), run.pod.args


def test_docs_are_published_to_s3(pipeline: Pipeline, s3_endpoint: str) -> None:
    run = pipeline.docs
    assert run.exit_code == ExitCode.SUCCESS, run.stderr[-3000:]
    assert run.pod.args[0] == "docs" and "--publish" in run.pod.args
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **_boto_keys())
    url = run.pod.args[run.pod.args.index("--publish") + 1]
    prefix = url.removeprefix(f"s3://{DOCS_BUCKET}/").rstrip("/")
    listed = s3.list_objects_v2(Bucket=DOCS_BUCKET, Prefix=f"{prefix}/latest/")
    keys = {o["Key"].removeprefix(f"{prefix}/latest/") for o in listed.get("Contents", [])}
    assert {"index.html", "manifest.json", "catalog.json"} <= keys
    index = s3.get_object(Bucket=DOCS_BUCKET, Key=f"{prefix}/latest/index.html")
    assert index["ContentType"].startswith("text/html")


def test_a_refused_password_exits_with_its_code_and_never_shows_it(
    pods: PodRunner, pod_db: dict[str, str], pipeline: Pipeline
) -> None:
    wrong = "wr0ng-Passw0rd-x9"
    run = pods.run(
        "dbt-run", {"layer": "gold"}, postgres_secret(pod_db | {"POSTGRES_PASSWORD": wrong})
    )
    assert run.exit_code == REFUSED_PASSWORD_EXIT, run.stderr[-2000:]
    assert "password authentication failed" in run.stderr
    assert wrong not in run.outputs()
    assert run.changed_paths == []


def test_a_stopped_database_exits_with_the_transient_code(
    pods: PodRunner, pod_db: dict[str, str]
) -> None:
    with temporary_cluster("image-stopped-") as stopped:
        stopped.stop("fast")
        env = pod_db | {"POSTGRES_PORT": str(stopped.port)}
        run = pods.run("dbt-run", {"layer": "silver"}, postgres_secret(env))
    assert run.exit_code == STOPPED_DATABASE_EXIT, run.stderr[-2000:]
    assert TEST_PASSWORD not in run.outputs()


def _first_model_started(pods: PodRunner, pod: PodSpec, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = pods.engine("logs", pod.name)
        if '"dbt_node"' in logs.stdout + logs.stderr:
            return
        time.sleep(0.2)
    pytest.fail(f"no dbt_node event within {timeout} s")


def test_sigterm_mid_run_cancels_records_and_exits_for_a_retry(
    pods: PodRunner, pod_db: dict[str, str], pipeline: Pipeline, pg_cluster: PostgresCluster
) -> None:
    """Argo's deadline and an eviction send SIGTERM to the container's PID 1 (the command)."""
    pod = pods.spec("dbt-run", {"layer": "all", "full_refresh": "true"}, postgres_secret(pod_db))
    volumes = pods.volumes(pod)
    started = time.monotonic()
    pods.start(pod, volumes)
    _first_model_started(pods, pod, timeout=120)
    killed = pods.engine("kill", "--signal", "TERM", pod.name)
    assert killed.returncode == 0, killed.stderr
    run = pods.wait(pod, volumes, started)

    assert run.exit_code == ExitCode.RUNTIME_ERROR, run.stderr[-3000:]
    (invocation,) = run.named("dbt_invocation")
    assert "SIGTERM" in str(invocation.get("error")), invocation
    recorded = pipeline.scalar(
        "select count(*) from ops.dbt_invocations "
        f"where workflow_name = '{pod.env['WORKFLOW_NAME']}' and not success"
    )
    assert recorded == 1
    assert pipeline.scalar("select count(*) from pg_locks where locktype = 'advisory'") == 0
    assert run.changed_paths == []
