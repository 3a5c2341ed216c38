"""Start-up in the real runtime image: `<engine> run` of the chart's dbt-run pod → first model SQL.

The image is built with `make image`'s script, pre-parsed for the bench server, and run exactly as
`make image-test` runs it (tests/image/podspec.py: the rendered WorkflowTemplate's container
spec, read-only root filesystem, uid 10001, emptyDirs, limits, host networking). The clock starts
just before the engine is called, so engine and container start-up are inside the figure.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from tests.image.engine import Engine, run_container
from tests.image.podspec import (
    Workflow,
    engine_run_args,
    pod_environment,
    render_chart,
    resolve,
    workflow_template,
)

IMAGE_REPOSITORY = "dbt-workbench/dbt-runtime"
IMAGE_TAG = "bench"
POSTGRES_SECRET = "dbt-workbench-postgres"  # noqa: S105 - the Secret's name in the chart


def build_image(pg_env: dict[str, str]) -> tuple[Engine, str, float]:
    """(engine, image ref, build seconds) for an image pre-parsed for `pg_env`'s identity."""
    engine = Engine.detect()
    ref = f"{IMAGE_REPOSITORY}:{IMAGE_TAG}"
    identity = {k: pg_env[k] for k in ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER")}
    identity |= {"POSTGRES_DB": pg_env["POSTGRES_DB"], "POSTGRES_SSLMODE": "disable"}
    started = time.monotonic()
    done = engine.build(ref, identity)
    if done.returncode != 0:
        raise RuntimeError(f"image build failed: {done.stderr[-2000:]}")
    return engine, ref, time.monotonic() - started


def time_pod_start(
    engine: Engine,
    pg_env: dict[str, str],
    layer: str,
    run_dir: Path,
    first_model_after: Callable[[], Callable[[], float | None]],
) -> float:
    """Seconds from the engine call to the first model SQL of one `-p layer=<layer>` pod."""
    chart = workflow_template(
        render_chart({"image.repository": IMAGE_REPOSITORY, "image.tag": IMAGE_TAG})
    )
    secret = {k: v for k, v in pg_env.items() if k.startswith("POSTGRES_")}
    workflow = Workflow(name=f"wb-bench-{uuid.uuid4().hex[:6]}", uid=str(uuid.uuid4()))
    pod = resolve(chart, "dbt-run", workflow, {"layer": layer}, {POSTGRES_SECRET: secret})
    run_dir.mkdir(parents=True, exist_ok=True)
    volumes = {}
    for name in pod.mounts:
        path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=run_dir))
        path.chmod(0o777)
        volumes[name] = path
    first_model = first_model_after()
    started = time.time()
    try:
        done = run_container(
            engine, engine_run_args(pod, volumes), pod_environment(pod, {"PATH": "/usr/bin:/bin"})
        )
    finally:
        engine("rm", "--force", pod.name)
        shutil.rmtree(run_dir, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"the pod exited {done.returncode}: {done.stderr[-2000:]}")
    first = first_model()
    if first is None:
        raise RuntimeError("no model statement in the server log after the pod ran")
    return first - started
