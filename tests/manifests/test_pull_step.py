"""The daily bronze run's pull step (values `ingest.pulls`, issue 18), rendered by the real helm
and validated strictly: with pulls, the bronze CronWorkflow starts the pull-then-run DAG (pull,
then dbt-run whatever the pull did); without, it renders exactly as before.

No Argo controller runs here. What the controller does with the DAG is pinned from
argo-workflows v4.1.2 (tag commit 16a52d67), workflow/controller/dag.go:
- 303-308: `dag.target` names the target tasks (space-separated); without it, the leaves.
- 971-1024 (evaluateDependsLogic): a task runs once every task its `depends` names is
  fulfilled, when the expression holds over each dependency's TaskResults (Succeeded = phase
  Succeeded, Failed = Failed, Errored = Error; 1009-1018), task names with "-" read as "_"
  (986, 1021); not holding = the task is Omitted (572-576).
- 216-243 (assessDAGPhase): every target task is looked at; one that Failed or Errored makes
  the DAG's phase its own, unless its task has continueOn for it; with failFast off a target
  that has not run yet keeps the DAG Running (223-226) rather than failing it first.
workflow/common/ancestry.go:35 reads every bare word of `depends` as a task name (so `||`,
never `or`), and workflow/validate/validate.go:1476-1477 refuses continueOn next to depends.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.manifests import chart
from tests.manifests.argo_expr import evaluate
from tests.manifests.argo_retry import Attempt, eval_retry_expression
from tests.validation.validator import schema_errors
from workbench.contract import (
    EXIT_CODE_OUTPUT,
    GDRIVE_API_URL_ENV,
    GDRIVE_CREDENTIALS_PATH,
    GOOGLE_CREDENTIALS_ENV,
    INGEST_MAX_ERROR_SHARE_ENV,
    INGEST_SOURCES_FILE_NAME,
    INGEST_SOURCES_MOUNT_DIR,
    INGEST_SOURCES_PATH,
    OUTPUTS_DIR_ENV,
    PULL_EXIT_CODE_OUTPUT,
    PULL_STEP,
    ExitCode,
)
from workbench.ingest.pulls import Pull, read_pulls
from workflows.layers import PULL_RUN_ENTRYPOINT, RUN_ENTRYPOINT
from workflows.template import OUTPUTS_DIR

TEMPLATE = "wb-dbt-workbench"
DRIVE_PULL = {"uri": "gdrive://1AbCdEfGhIjKlMnOpQrStUvWxYz012345", "entity": "transactions"}
S3_PULL = {"uri": "s3://scout-landing/drops/*/products-*.csv", "entity": "products"}


def _render(tmp_path: Path, ingest: dict[str, Any] | None) -> list[dict[str, Any]]:
    values: dict[str, Any] = {"postgres": {"existingSecret": "pg"}}
    if ingest is not None:
        values["ingest"] = ingest
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return chart.documents(chart.template([path]))


@pytest.fixture(scope="module")
def with_drive(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    ingest = {
        "pulls": [DRIVE_PULL, S3_PULL],
        "maxErrorShare": 0.2,
        "gdrive": {
            "credentialsSecret": {"name": "drive-key", "key": "sa.json"},
            "apiUrl": "http://drive.internal:8080",
        },
    }
    return _render(tmp_path_factory.mktemp("drive"), ingest)


@pytest.fixture(scope="module")
def s3_only(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return _render(tmp_path_factory.mktemp("s3"), {"pulls": [S3_PULL]})


@pytest.fixture(scope="module")
def no_pulls(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return _render(tmp_path_factory.mktemp("none"), {"pulls": []})


def _templates(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    spec = chart.named(docs, "WorkflowTemplate", TEMPLATE)["spec"]
    return {t["name"]: t for t in spec["templates"]}


def _cron_spec(docs: list[dict[str, Any]], job: str) -> dict[str, Any]:
    spec: dict[str, Any] = chart.named(docs, "CronWorkflow", f"{TEMPLATE}-{job}")["spec"]
    return spec


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def test_everything_rendered_with_pulls_validates_strictly(
    with_drive: list[dict[str, Any]], s3_only: list[dict[str, Any]]
) -> None:
    for docs in (with_drive, s3_only):
        for doc in docs:
            assert schema_errors(doc) == [], (doc["kind"], doc["metadata"]["name"])


def test_with_pulls_only_the_bronze_cron_starts_the_pull(
    with_drive: list[dict[str, Any]], no_pulls: list[dict[str, Any]]
) -> None:
    """The bronze CronWorkflow differs from the pull-less one by its entrypoint alone."""
    crons = chart.by_kind(with_drive, "CronWorkflow")
    entrypoints = {
        c["metadata"]["name"]: c["spec"]["workflowSpec"].get("entrypoint") for c in crons
    }
    assert entrypoints.pop(f"{TEMPLATE}-bronze") == PULL_RUN_ENTRYPOINT
    assert PULL_RUN_ENTRYPOINT not in entrypoints.values()
    bronze = _cron_spec(with_drive, "bronze")
    without = _cron_spec(no_pulls, "bronze")
    assert "entrypoint" not in without["workflowSpec"]  # the template's own: dbt-run
    del bronze["workflowSpec"]["entrypoint"]
    assert bronze == without


def test_no_pulls_renders_the_bronze_cron_as_the_chart_defaults_do(
    no_pulls: list[dict[str, Any]], default_docs: list[dict[str, Any]]
) -> None:
    assert _cron_spec(no_pulls, "bronze") == _cron_spec(default_docs, "bronze")
    spec = chart.named(no_pulls, "WorkflowTemplate", TEMPLATE)["spec"]
    assert spec["entrypoint"] == RUN_ENTRYPOINT


def test_the_pull_runs_before_the_build_and_both_are_targets(
    with_drive: list[dict[str, Any]],
) -> None:
    dag = _templates(with_drive)[PULL_RUN_ENTRYPOINT]["dag"]
    tasks = {t["name"]: t for t in dag["tasks"]}
    assert set(tasks) == {PULL_STEP, RUN_ENTRYPOINT}
    assert tasks[PULL_STEP]["template"] == PULL_STEP
    assert "depends" not in tasks[PULL_STEP]  # a root: it starts first
    assert tasks[RUN_ENTRYPOINT]["template"] == RUN_ENTRYPOINT
    assert PULL_STEP in tasks[RUN_ENTRYPOINT]["depends"]
    assert set(dag["target"].split(" ")) == {PULL_STEP, RUN_ENTRYPOINT}
    assert dag["failFast"] is False
    assert all("continueOn" not in t for t in tasks.values())  # validate.go:1476-1477
    # The build is the layer the Workflow was started for (the cron's layer=bronze).
    arguments = {p["name"]: p["value"] for p in tasks[RUN_ENTRYPOINT]["arguments"]["parameters"]}
    assert arguments["layer"] == "{{workflow.parameters.layer}}"
    inputs = [p["name"] for p in _templates(with_drive)[RUN_ENTRYPOINT]["inputs"]["parameters"]]
    assert sorted(arguments) == sorted(inputs)


def _build_runs(depends: str, pull_phase: str) -> bool:
    """dag.go:986-1024 for a task depending on the pull only."""
    results = {
        "Succeeded": pull_phase == "Succeeded",
        "Failed": pull_phase == "Failed",
        "Errored": pull_phase == "Error",
        "Skipped": False,
        "Omitted": False,
        "Daemoned": False,
    }
    expression = depends.replace("-", "_").replace("||", " or ").replace("&&", " and ")
    scope = {f"{PULL_STEP.replace('-', '_')}.{key}": value for key, value in results.items()}
    result = evaluate(expression, scope)
    assert isinstance(result, bool)
    return result


def _dag_phase(dag: dict[str, Any], phases: dict[str, str]) -> str:
    """dag.go:216-243 over the target tasks (none of them has continueOn)."""
    fail_fast = dag.get("failFast", True)
    result = "Succeeded"
    for name in dag["target"].split(" "):
        phase = phases.get(name, "")
        if phase == "":
            result = "Running"
            if not fail_fast:
                break
        elif phase in ("Failed", "Error"):
            result = phase
            if fail_fast:
                break
    return result


@pytest.mark.parametrize("pull_phase", ["Succeeded", "Failed", "Error"])
def test_the_build_runs_whatever_the_pull_did_and_a_failed_pull_fails_the_workflow(
    with_drive: list[dict[str, Any]], pull_phase: str
) -> None:
    """What landed is built even when a source failed; the Workflow still ends Failed (its
    status says the pull failed), and only once the build is over."""
    dag = _templates(with_drive)[PULL_RUN_ENTRYPOINT]["dag"]
    build = next(t for t in dag["tasks"] if t["name"] == RUN_ENTRYPOINT)
    assert _build_runs(build["depends"], pull_phase)
    # While the build has not finished, the DAG is still running, failed pull or not.
    assert _dag_phase(dag, {PULL_STEP: pull_phase}) == "Running"
    for build_phase in ("Succeeded", "Failed"):
        final = _dag_phase(dag, {PULL_STEP: pull_phase, RUN_ENTRYPOINT: build_phase})
        # The Workflow ends with its entry DAG's phase: Succeeded only when both did.
        if pull_phase == "Succeeded":
            assert final == build_phase
        else:
            assert final in ("Failed", "Error"), (pull_phase, build_phase)


def test_a_failed_pull_would_end_the_dag_before_the_build_with_fail_fast(
    with_drive: list[dict[str, Any]],
) -> None:
    """Why failFast is off: the target loop would report the failed pull at once."""
    dag = {**_templates(with_drive)[PULL_RUN_ENTRYPOINT]["dag"], "failFast": True}
    assert _dag_phase(dag, {PULL_STEP: "Failed"}) == "Failed"


def test_the_pull_step_runs_ingest_on_the_mounted_sources_file(
    with_drive: list[dict[str, Any]], tmp_path: Path
) -> None:
    pull = _templates(with_drive)[PULL_STEP]
    container = pull["container"]
    assert container["command"] == ["workbench"]
    assert container["args"] == ["ingest", "--sources", INGEST_SOURCES_PATH]
    run = _templates(with_drive)[RUN_ENTRYPOINT]["container"]
    assert container["image"] == run["image"]
    assert container["envFrom"] == run["envFrom"]  # POSTGRES_* (and the optional AWS keys)
    volumes = {v["name"]: v for v in pull["volumes"]}
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == INGEST_SOURCES_MOUNT_DIR]
    assert mount["readOnly"] is True
    source = volumes[mount["name"]]["configMap"]
    config_map = chart.named(with_drive, "ConfigMap", source["name"])
    (item,) = source["items"]
    assert item == {"key": INGEST_SOURCES_FILE_NAME, "path": INGEST_SOURCES_FILE_NAME}
    assert f"{mount['mountPath']}/{item['path']}" == container["args"][-1]
    # The file the pod sees, read by the runtime's own parser.
    mounted = tmp_path / item["path"]
    mounted.write_text(config_map["data"][item["key"]])
    assert read_pulls(str(mounted)) == [
        Pull(DRIVE_PULL["uri"], "transactions"),
        Pull(S3_PULL["uri"], "products"),
    ]


def test_the_drive_key_is_mounted_only_when_configured(
    with_drive: list[dict[str, Any]], s3_only: list[dict[str, Any]]
) -> None:
    pull = _templates(with_drive)[PULL_STEP]
    secrets = [v for v in pull["volumes"] if "secret" in v]
    assert [v["secret"] for v in secrets] == [
        {"secretName": "drive-key", "items": [{"key": "sa.json", "path": "credentials.json"}]}
    ]
    (mount,) = [m for m in pull["container"]["volumeMounts"] if m["name"] == secrets[0]["name"]]
    assert mount["readOnly"] is True
    env = _env(pull["container"])
    assert env[GOOGLE_CREDENTIALS_ENV] == GDRIVE_CREDENTIALS_PATH
    assert f"{mount['mountPath']}/credentials.json" == GDRIVE_CREDENTIALS_PATH
    assert env[GDRIVE_API_URL_ENV] == "http://drive.internal:8080"
    assert env[INGEST_MAX_ERROR_SHARE_ENV] == "0.2"
    s3_pull = _templates(s3_only)[PULL_STEP]
    assert not [v for v in s3_pull["volumes"] if "secret" in v]
    paths = {m["mountPath"] for m in pull["container"]["volumeMounts"]}
    s3_paths = {m["mountPath"] for m in s3_pull["container"]["volumeMounts"]}
    assert s3_paths == paths - {mount["mountPath"]}
    # Unset values reach the runtime empty, which it reads as its default.
    assert _env(s3_pull["container"])[GDRIVE_API_URL_ENV] == ""
    assert _env(s3_pull["container"])[INGEST_MAX_ERROR_SHARE_ENV] == ""


def test_the_pull_exit_code_is_a_workflow_output(with_drive: list[dict[str, Any]]) -> None:
    """The runtime writes $WORKBENCH_OUTPUTS_DIR/exit_code (workbench/cli.py); the pull's
    becomes the Workflow's `pull_exit_code` (the build's stays `exit_code`)."""
    templates = _templates(with_drive)
    pull = templates[PULL_STEP]
    assert _env(pull["container"])[OUTPUTS_DIR_ENV] == OUTPUTS_DIR
    (output,) = pull["outputs"]["parameters"]
    assert output["name"] == EXIT_CODE_OUTPUT
    assert output["globalName"] == PULL_EXIT_CODE_OUTPUT
    assert output["valueFrom"]["path"] == f"{OUTPUTS_DIR}/{EXIT_CODE_OUTPUT}"
    assert "default" in output["valueFrom"]  # a pod that died early still reports
    build_outputs = templates[RUN_ENTRYPOINT]["outputs"]["parameters"]
    globals_ = [p["globalName"] for p in build_outputs if "globalName" in p]
    assert globals_ == [EXIT_CODE_OUTPUT] != [PULL_EXIT_CODE_OUTPUT]


@pytest.mark.parametrize(
    ("code", "retried"),
    [
        (ExitCode.SUCCESS, False),
        (ExitCode.FAILURE, False),
        (ExitCode.RUNTIME_ERROR, True),
        (ExitCode.CONFIGURATION_ERROR, False),
    ],
)
def test_only_a_transient_pull_is_retried(
    with_drive: list[dict[str, Any]], code: ExitCode, retried: bool
) -> None:
    templates = _templates(with_drive)
    strategy = templates[PULL_STEP]["retryStrategy"]
    assert strategy["expression"] == templates[RUN_ENTRYPOINT]["retryStrategy"]["expression"]
    assert strategy["retryPolicy"] == "Always"
    assert int(strategy["backoff"]["maxDuration"]) == templates[PULL_STEP]["activeDeadlineSeconds"]
    now = datetime.now(UTC)
    attempt = Attempt(phase="Failed", exit_code=str(int(code)), started=now, finished=now)
    assert eval_retry_expression(strategy["expression"], attempt, 0) is retried
