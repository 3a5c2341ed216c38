"""The run template's outputs, as rendered: what the Argo UI shows on a dbt-run node.

No Argo controller runs here; the behaviour relied on is pinned from argo-workflows v4.1.2:
- workflow/executor/executor.go:765-777: an output parameter's valueFrom.path is read from the
  main container's volume mounts; when the file is missing the executor uses valueFrom.default,
  and without a default it fails the node, so a pod that died early needs one.
- workflow/controller/workflowpod.go:1742-1766: an output artifact without its own location
  makes the controller use the default artifact repository; with none configured, the
  executor has nowhere to save it, so the chart declares it only with a repository.
- workflow/executor/executor.go:496-500: an optional artifact whose file is missing is skipped.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from tests.manifests import chart
from workbench.contract import EXIT_CODE_OUTPUT, OUTPUT_NAMES, OUTPUTS_DIR_ENV

TEMPLATE_NAME = "wb-dbt-workbench"


def _run_template(docs: list[dict[str, Any]]) -> dict[str, Any]:
    spec = chart.named(docs, "WorkflowTemplate", TEMPLATE_NAME)["spec"]
    (run,) = [t for t in spec["templates"] if t["name"] == spec["entrypoint"]]
    return run


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def _empty_dir_mounts(template: dict[str, Any]) -> set[PurePosixPath]:
    empty = {v["name"] for v in template["volumes"] if "emptyDir" in v}
    mounts = template["container"]["volumeMounts"]
    return {PurePosixPath(m["mountPath"]) for m in mounts if m["name"] in empty}


def test_every_value_the_runtime_writes_is_a_declared_output_with_a_default(
    default_docs: list[dict[str, Any]],
) -> None:
    run = _run_template(default_docs)
    directory = PurePosixPath(_env(run["container"])[OUTPUTS_DIR_ENV])
    assert directory in _empty_dir_mounts(run)  # writable under a read-only root, and shared
    declared = {p["name"]: p for p in run["outputs"]["parameters"]}
    assert tuple(declared) == (*OUTPUT_NAMES, EXIT_CODE_OUTPUT)
    for name, parameter in declared.items():
        assert parameter["valueFrom"]["path"] == str(directory / name)
        assert parameter["valueFrom"]["default"]  # a pod killed before writing still reports
        assert parameter["description"]


def test_run_results_artifact_only_with_an_artifact_repository(
    default_docs: list[dict[str, Any]], everything_on_docs: list[dict[str, Any]]
) -> None:
    assert _run_template(default_docs)["outputs"]["artifacts"] == []
    configmaps = [d["metadata"]["name"] for d in chart.by_kind(everything_on_docs, "ConfigMap")]
    assert "artifact-repositories" in configmaps
    run = _run_template(everything_on_docs)
    (artifact,) = run["outputs"]["artifacts"]
    target = PurePosixPath(_env(run["container"])["DBT_TARGET_PATH"])
    assert artifact["path"] == str(target / "run_results.json")
    assert target in _empty_dir_mounts(run)
    assert artifact["optional"] is True  # a run that never reached dbt has no run_results
    assert artifact["archive"] == {"none": {}}  # plain JSON, viewable in the UI


def test_the_exit_code_is_the_workflows_own_output(default_docs: list[dict[str, Any]]) -> None:
    """Issue 19 finding 6: a retry refused by the expression ends the Workflow with the message
    "retryStrategy.expression evaluated to false" (operator.go:1201), no exit code in it. An
    output parameter with a globalName is copied to the Workflow's status.outputs whenever an
    attempt's pod is assessed, failed ones included (operator.go:1257, 3701-3710): the last
    attempt's exit code is the Workflow's `exit_code` (the CLI writes the file,
    tests/runtime/test_cli_exit_code.py)."""
    run = _run_template(default_docs)
    declared = {p["name"]: p for p in run["outputs"]["parameters"]}
    assert declared[EXIT_CODE_OUTPUT]["globalName"] == EXIT_CODE_OUTPUT
    assert [p for p in declared.values() if "globalName" in p] == [declared[EXIT_CODE_OUTPUT]]
