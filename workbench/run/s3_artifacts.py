"""Keep each `workbench run`'s dbt artifacts on S3, per layer, for `dbt retry` and `--state`.

A run pod has its own emptyDir target path, so its run_results.json and manifest.json are gone
when the pod ends unless uploaded. Layout, beside the docs (same bucket and prefix)::

    <prefix>/runs/<layer>/versions/<version-id>/artifacts/run_results.json, manifest.json
    <prefix>/runs/<layer>/latest/artifacts/...      the layer's newest run

Enabled by WORKBENCH_ARTIFACTS_URL=s3://bucket/prefix. The caller (the runner) must treat any
exception as a logged warning: an S3 outage never changes a run's exit code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.dbt_cli import collect_artifacts
from workbench.storage.location import S3Location
from workbench.storage.publish import PublishResult, plan_files, publish
from workbench.storage.s3client import make_s3_client
from workbench.storage.version import default_version_id

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ARTIFACTS_URL_ENV = "WORKBENCH_ARTIFACTS_URL"
_LAYER = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


def publish_run_artifacts(
    target_path: Path,
    layer: str,
    env: Mapping[str, str],
    client: S3Client | None = None,
) -> PublishResult | None:
    """Upload the run's artifacts; None when not configured or the run left none."""
    url = env.get(ARTIFACTS_URL_ENV, "")
    if not url:
        return None
    if not _LAYER.match(layer):
        raise ValueError(f"layer {layer!r} is not usable as an S3 path segment")
    base = S3Location.parse(url)
    artifacts = collect_artifacts(target_path)
    if not artifacts:
        return None
    now = datetime.now(UTC)
    return publish(
        client if client is not None else make_s3_client(env),
        S3Location(base.bucket, base.key("runs", layer)),
        default_version_id(now, env),
        plan_files({}, artifacts),
        published_at=now,
    )
