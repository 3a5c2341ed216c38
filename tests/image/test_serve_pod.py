"""`workbench serve` in the runtime image, run exactly as the chart's Deployment pod, on a real
PostgreSQL: the container's command, args, env (the token from its Secret key), emptyDirs and
security context are read from `helm template` (tests/image/podspec.resolve_deployment), the
engine runs it with host networking, and real HTTP requests reach it.

No kubelet runs here: the probes are called as the kubelet would call them (HTTP GET on the
named port, success = 2xx), and the pod is stopped as the kubelet stops one — SIGTERM, then
the termination grace period (`podman stop -t <terminationGracePeriodSeconds>`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.dbt_support import connect
from tests.image.conftest import (
    IMAGE_REPOSITORY,
    IMAGE_TAG,
    BuiltImage,
    PodRun,
    PodRunner,
    postgres_secret,
)
from tests.image.podspec import PodSpec, render_chart, resolve_deployment
from tests.pgcluster import PostgresCluster, free_port, temporary_database
from workbench.contract import ExitCode

pytestmark = pytest.mark.integration  # the image's serve pod against a real PostgreSQL

TOKEN = "pod-test-token-6f1c"  # noqa: S105 - the test's own Secret value
TOKEN_SECRET = "dbt-workbench-ingest-token"  # noqa: S105 - the chart's default Secret name
# The follower's documented bound (docs/ingest-api.md): debounce + two bronze runs.
BRONZE_WITHIN_SECONDS = 120.0
# A small body limit (the chart's serve.maxBodyBytes), so a 413 costs a few kilobytes.
MAX_BODY_BYTES = 4096


@dataclass
class ServePod:
    spec: PodSpec
    url: str
    db: dict[str, str]
    grace_seconds: int
    deployment: dict[str, Any]

    @property
    def max_body_bytes(self) -> int:
        """The limit the rendered container's environment gives the service."""
        (container,) = self.deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        return int(env["WORKBENCH_SERVE_MAX_BODY_BYTES"])

    def rows(self, statement: str, *params: object) -> list[tuple[Any, ...]]:
        with connect(self.db) as conn:
            return conn.execute(statement, params or None).fetchall()


def _deployment(port: int) -> dict[str, Any]:
    docs = render_chart(
        {"image.repository": IMAGE_REPOSITORY, "image.tag": IMAGE_TAG},
        typed={
            "serve.enabled": "true",
            "serve.port": str(port),
            "serve.maxBodyBytes": str(MAX_BODY_BYTES),
        },
    )
    (found,) = [d for d in docs if d["kind"] == "Deployment"]
    return found


def _probe(url: str, path: str) -> int:
    try:
        return httpx.get(url + path, timeout=3).status_code
    except httpx.TransportError:
        return 0


@pytest.fixture(scope="module")
def stopped_serve(
    pods: PodRunner, image: BuiltImage, pg_cluster: PostgresCluster
) -> Iterator[tuple[ServePod, dict[str, Any], PodRun]]:
    """The serve pod started, used by the module's checks through `answers`, then stopped."""
    port = free_port()
    deployment = _deployment(port)
    with temporary_database(pg_cluster, "serve_pod") as db:
        secrets = postgres_secret(db) | {TOKEN_SECRET: {"token": TOKEN}}
        spec = resolve_deployment(deployment, secrets)
        assert spec.image == image.ref, "the chart must run the image just built"
        grace = int(deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])
        pod = ServePod(spec, f"http://127.0.0.1:{port}", db, grace, deployment)
        volumes = pods.volumes(spec)
        started = time.monotonic()
        pods.start(spec, volumes)
        try:
            answers = _exercise(pod)
        finally:
            stop = pods.engine("stop", "-t", str(grace), spec.name, timeout=grace + 30)
            assert stop.returncode == 0, stop.stderr
            run = pods.wait(spec, volumes, started)
        yield pod, answers, run


def _exercise(pod: ServePod) -> dict[str, Any]:
    """What a point-of-sale system and the kubelet do to the pod while it runs."""
    deadline = time.monotonic() + 90
    while _probe(pod.url, "/readyz") != 200:
        assert time.monotonic() < deadline, "the pod never became ready"
        time.sleep(0.5)
    answers: dict[str, Any] = {"healthz": _probe(pod.url, "/healthz")}
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/x-ndjson"}
    body = (
        '{"transaction_id": "POD-1", "amount": "12.10", "quantity": 1}\n'
        "not a record\n"
        '{"transaction_id": "POD-2", "amount": "3.00", "quantity": 2}\n'
    )
    with httpx.Client(base_url=pod.url, timeout=30) as client:
        answers["no_token"] = client.post(
            "/v1/transactions", content=body, headers={"Content-Type": "application/x-ndjson"}
        )
        line = b'{"transaction_id": "POD-BIG", "amount": "1.00"}\n'
        oversized = line * (pod.max_body_bytes // len(line) + 1)
        answers["too_large"] = client.post("/v1/transactions", content=oversized, headers=auth)
        keyed = {**auth, "Idempotency-Key": "pod-sale-1"}
        answers["first"] = client.post("/v1/transactions", content=body, headers=keyed)
        answers["again"] = client.post("/v1/transactions", content=body, headers=keyed)
        acknowledged = time.monotonic()
        while time.monotonic() - acknowledged < BRONZE_WITHIN_SECONDS:
            if _in_bronze(pod) == {"POD-1", "POD-2"}:
                break
            time.sleep(1)
        answers["bronze_seconds"] = time.monotonic() - acknowledged
        answers["bronze"] = _in_bronze(pod)
        answers["metrics"] = client.get("/metrics").text
    return answers


def _in_bronze(pod: ServePod) -> set[str]:
    if not pod.rows("select to_regclass('bronze.bronze_transactions') is not null")[0][0]:
        return set()
    rows = pod.rows(
        "select payload->>'transaction_id' from bronze.bronze_transactions"
        " where payload->>'transaction_id' like 'POD-%%'"
    )
    return {row[0] for row in rows}


def test_the_pod_is_ready_and_refuses_a_request_without_the_token(
    stopped_serve: tuple[ServePod, dict[str, Any], PodRun],
) -> None:
    _, answers, _ = stopped_serve
    assert answers["healthz"] == 200
    assert answers["no_token"].status_code == 401


def test_a_body_over_the_charts_limit_is_refused_413_and_lands_nothing(
    stopped_serve: tuple[ServePod, dict[str, Any], PodRun],
) -> None:
    pod, answers, _ = stopped_serve
    assert pod.max_body_bytes == MAX_BODY_BYTES
    assert answers["too_large"].status_code == 413, answers["too_large"].text
    landed = "select count(*) from raw.transactions where payload->>'transaction_id' = 'POD-BIG'"
    assert pod.rows(landed) == [(0,)]


def test_records_land_once_with_their_rejected_line_kept(
    stopped_serve: tuple[ServePod, dict[str, Any], PodRun],
) -> None:
    pod, answers, _ = stopped_serve
    first, again = answers["first"], answers["again"]
    assert first.status_code == 202, first.text
    reply = first.json()
    assert (reply["records"], reply["errors"]) == (2, 1)
    assert again.status_code == 202 and again.json() == reply
    assert again.headers["idempotent-replayed"] == "true"
    assert pod.rows(
        "select payload->>'transaction_id', source from raw.transactions where batch_id = %s"
        " order by source_row",
        reply["request_id"],
    ) == [("POD-1", "api"), ("POD-2", "api")]
    assert pod.rows(
        "select raw_text from raw.ingest_errors where batch_id = %s", reply["request_id"]
    ) == [("not a record",)]


def test_acknowledged_records_reach_bronze_from_inside_the_pod(
    stopped_serve: tuple[ServePod, dict[str, Any], PodRun],
) -> None:
    """The chart's default follows bronze: the pod runs `workbench run --layer bronze` itself,
    on its read-only root with only its emptyDirs writable."""
    _, answers, run = stopped_serve
    assert answers["bronze"] == {"POD-1", "POD-2"}, answers["bronze_seconds"]
    assert answers["bronze_seconds"] < BRONZE_WITHIN_SECONDS
    assert run.named("serve.bronze_follow"), "no follower run was logged"
    assert (
        'dbt_workbench_serve_records_landed_total{entity="transactions"} 2.0'
        in (answers["metrics"])
    )


def test_sigterm_drains_and_exits_0_within_the_grace_period(
    stopped_serve: tuple[ServePod, dict[str, Any], PodRun],
) -> None:
    pod, _, run = stopped_serve
    assert run.exit_code == ExitCode.SUCCESS, run.stderr[-3000:]
    assert run.seconds > 0
    assert run.changed_paths == [], run.changed_paths
    for event in run.events:
        assert {"timestamp", "level", "event"} <= event.keys(), event
    assert TOKEN not in run.outputs()
    assert pod.db["POSTGRES_PASSWORD"] not in run.outputs()
