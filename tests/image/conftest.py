"""The real runtime image, built once per session and run as the rendered chart's pods.

`make image-test` runs this package (and `.ci/run` runs `make image-test`); `make test` leaves
it out. It needs root, a container engine (`apt-get install podman runc`, or Docker) and the
Dockerfile's base image, or the stand-in `make image-base` builds where no registry is reachable.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.image.engine import Engine, run_container
from tests.image.podspec import (
    PodSpec,
    Workflow,
    engine_run_args,
    pod_environment,
    render_chart,
    resolve,
    workflow_template,
)
from tests.pgcluster import PostgresCluster, temporary_database

IMAGE_REPOSITORY = "dbt-workbench/dbt-runtime"
IMAGE_TAG = "image-test"
DOCS_BUCKET = "wb-docs"
POSTGRES_SECRET = "dbt-workbench-postgres"  # noqa: S105 - the Secret's name
AWS_SECRET = "dbt-workbench-aws"  # noqa: S105 - the Secret's name
# Secrets the pod reads through envFrom, beyond POSTGRES_*: where moto's S3 listens.
# Files every engine (and the kubelet) mounts into a container itself.
ENGINE_MOUNTS = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run/.containerenv")
S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(scope="session")
def engine() -> Engine:
    try:
        return Engine.detect()
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def pod_db(pg_cluster: PostgresCluster) -> Iterator[dict[str, str]]:
    """The database the pods use; the image is pre-parsed for exactly this identity."""
    with temporary_database(pg_cluster, "image") as env:
        yield env


@dataclass(frozen=True)
class BuiltImage:
    ref: str
    seconds: float


@pytest.fixture(scope="session")
def image(engine: Engine, pod_db: dict[str, str]) -> BuiltImage:
    identity = {k: pod_db[k] for k in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER")}
    identity |= {"POSTGRES_DB": pod_db["POSTGRES_DB"], "POSTGRES_SSLMODE": "disable"}
    ref = f"{IMAGE_REPOSITORY}:{IMAGE_TAG}"
    started = time.monotonic()
    done = engine.build(ref, identity)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        pytest.fail(f"image build failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    size = engine("image", "inspect", "--format", "{{.Size}}", ref).stdout.strip()
    print(f"\nimage {ref}: built in {seconds:.1f} s, {int(size or 0) / 1e6:.0f} MB")
    return BuiltImage(ref, seconds)


@pytest.fixture(scope="session")
def chart() -> dict[str, Any]:
    """The WorkflowTemplate the chart renders for this image and a docs bucket."""
    docs = render_chart(
        {
            "image.repository": IMAGE_REPOSITORY,
            "image.tag": IMAGE_TAG,
            "docs.bucket": DOCS_BUCKET,
        }
    )
    return workflow_template(docs)


@dataclass
class PodRun:
    pod: PodSpec
    exit_code: int
    stdout: str
    stderr: str
    volumes: dict[str, Path]
    changed_paths: list[str]  # the engine's diff of the root filesystem
    seconds: float
    events: list[dict[str, Any]] = field(default_factory=list)

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == event]

    def outputs(self) -> str:
        """Everything the pod left readable: its streams and every file in its volumes."""
        texts = [self.stdout, self.stderr]
        for directory in self.volumes.values():
            for path in directory.rglob("*"):
                if path.is_file():
                    texts.append(path.read_bytes().decode("utf-8", "replace"))
        return "\n".join(texts)


def _json_lines(stream: str) -> list[dict[str, Any]]:
    """Every line a JSON object, or the test fails naming the first line that is not."""
    events = []
    for line in stream.splitlines():
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"a pod log line is not JSON: {line[:300]!r}")
    return events


class PodRunner:
    """Runs a WorkflowTemplate step as its pod: spec from the chart, image from the build."""

    def __init__(self, engine: Engine, chart: dict[str, Any], image: BuiltImage, root: Path):
        self.engine, self.chart, self.image, self.root = engine, chart, image, root

    def spec(
        self,
        template: str,
        parameters: Mapping[str, str],
        secrets: Mapping[str, Mapping[str, str]],
    ) -> PodSpec:
        workflow = Workflow(name=f"wb-test-{uuid.uuid4().hex[:6]}", uid=str(uuid.uuid4()))
        pod = resolve(self.chart, template, workflow, parameters, secrets)
        assert pod.image == self.image.ref, "the chart must run the image just built"
        return pod

    def volumes(self, pod: PodSpec, shared: Mapping[str, Path] | None = None) -> dict[str, Path]:
        """A fresh host directory per emptyDir (mode 0777, as the kubelet makes them)."""
        made: dict[str, Path] = {}
        for name in pod.mounts:
            if shared and name in shared:
                made[name] = shared[name]
                continue
            path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.root))
            path.chmod(0o777)
            made[name] = path
        return made

    def start(self, pod: PodSpec, volumes: Mapping[str, Path]) -> None:
        env = pod_environment(pod, {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        done = run_container(self.engine, engine_run_args(pod, volumes), env, detach=True)
        assert done.returncode == 0, f"the engine could not start the pod: {done.stderr}"

    def wait(self, pod: PodSpec, volumes: dict[str, Path], started: float) -> PodRun:
        waited = self.engine("wait", pod.name, timeout=900)
        assert waited.returncode == 0, waited.stderr
        seconds = time.monotonic() - started
        exit_code = int(waited.stdout.strip().splitlines()[-1])
        logs_out = self.engine("logs", pod.name)
        diff = self.engine("diff", pod.name)
        self.engine("rm", "--force", pod.name)
        # Mount points and their parents show as changed (the engine made them): not a write.
        mounted = {p for path in [*pod.mounts.values(), *ENGINE_MOUNTS] for p in _parents(path)}
        changed = [
            line.split(maxsplit=1)[1]
            for line in diff.stdout.splitlines()
            if line.strip() and line.split(maxsplit=1)[1] not in mounted
        ]
        run = PodRun(pod, exit_code, logs_out.stdout, logs_out.stderr, volumes, changed, seconds)
        run.events = _json_lines(run.stdout) + _json_lines(run.stderr)
        return run

    def run(
        self,
        template: str,
        parameters: Mapping[str, str],
        secrets: Mapping[str, Mapping[str, str]],
        *,
        override: Callable[[PodSpec], None] | None = None,
        shared: Mapping[str, Path] | None = None,
    ) -> PodRun:
        pod = self.spec(template, parameters, secrets)
        if override is not None:
            override(pod)
        volumes = self.volumes(pod, shared)
        started = time.monotonic()
        self.start(pod, volumes)
        return self.wait(pod, volumes, started)


def _parents(path: str) -> list[str]:
    parts = Path(path).parts
    return ["/".join(parts[: i + 1]).replace("//", "/") for i in range(1, len(parts) + 1)]


@pytest.fixture(scope="session")
def pods(
    engine: Engine,
    chart: dict[str, Any],
    image: BuiltImage,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PodRunner]:
    root = tmp_path_factory.mktemp("pods")
    root.chmod(0o755)
    yield PodRunner(engine, chart, image, root)
    shutil.rmtree(root, ignore_errors=True)


def postgres_secret(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    keys = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB")
    secret = {k: env[k] for k in keys} | {"POSTGRES_SSLMODE": "disable"}
    return {POSTGRES_SECRET: secret}
