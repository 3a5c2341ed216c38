"""Issue 19 finding 1: which code a resumed run executes, against the run it resumes.

`argo retry` reruns the Workflow's stored spec (argo-workflows v4.1.2
workflow/controller/operator.go:4586-4612 keeps status.storedWorkflowSpec, and
workflow/util/util.go:916-932 resets nodes without touching it): after a `helm upgrade` the
retried pod still runs the old image. dbt records DBT_ENV_CUSTOM_ENV_* in run_results
metadata (dbt_common/events/functions.py get_metadata_vars); the image sets the commit, the
template the image reference, so the `dbt_retry` event can say whether the fix is in.
"""

from __future__ import annotations

import json

from workbench.contract import DBT_METADATA_ENV_PREFIX, IMAGE_METADATA_KEY, REVISION_METADATA_KEY
from workbench.run.resume import ResumePoint, code_comparison


def _failed_run(env: dict[str, str] | None) -> ResumePoint:
    metadata: dict[str, object] = {"invocation_id": "0f3c9a1e", "dbt_version": "1.10.0"}
    if env is not None:
        metadata["env"] = env
    results = {"metadata": metadata, "results": [{"unique_id": "model.x", "status": "error"}]}
    return ResumePoint("0f3c9a1e", json.dumps(results).encode())


def _pod_env(image: str, revision: str) -> dict[str, str]:
    return {
        DBT_METADATA_ENV_PREFIX + IMAGE_METADATA_KEY: image,
        DBT_METADATA_ENV_PREFIX + REVISION_METADATA_KEY: revision,
    }


def test_argo_retry_on_the_frozen_spec_says_it_runs_the_old_code() -> None:
    old = {IMAGE_METADATA_KEY: "reg/dbt-runtime:1.4.0", REVISION_METADATA_KEY: "abc123"}
    fields = code_comparison(_failed_run(old), _pod_env("reg/dbt-runtime:1.4.0", "abc123"))
    assert fields == {
        "image": "reg/dbt-runtime:1.4.0",
        "revision": "abc123",
        "failed_run_image": "reg/dbt-runtime:1.4.0",
        "failed_run_revision": "abc123",
        "same_code_as_failed_run": True,
    }


def test_a_new_workflow_resuming_the_failed_run_names_both_versions() -> None:
    old = {IMAGE_METADATA_KEY: "reg/dbt-runtime:1.4.0", REVISION_METADATA_KEY: "abc123"}
    fields = code_comparison(_failed_run(old), _pod_env("reg/dbt-runtime:1.4.1", "def456"))
    assert fields["failed_run_revision"] == "abc123" and fields["revision"] == "def456"
    assert fields["same_code_as_failed_run"] is False


def test_a_failed_run_from_before_the_recording_is_unknown_not_equal() -> None:
    fields = code_comparison(_failed_run(None), _pod_env("reg/dbt-runtime:1.4.1", "def456"))
    assert fields["failed_run_image"] == fields["failed_run_revision"] == "unknown"
    assert fields["same_code_as_failed_run"] is False
