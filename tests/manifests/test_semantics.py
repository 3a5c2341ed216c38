"""What the rendered workflows mean: schedules, references, mutexes, retries, pod security."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.manifests import chart
from workbench import params
from workbench.contract import INGEST_SOURCES_MOUNT_DIR, LAYERS, PULL_STEP
from workflows.cron import build_cron_workflow
from workflows.layers import DOCS_ENTRYPOINT, JOBS, RUN_ENTRYPOINT, scheduled_jobs
from workflows.template import OUTPUTS_DIR, build_workflow_template

TEMPLATE_NAME = "wb-dbt-workbench"
RUN_ARGS = [
    "run",
    "--layer={{inputs.parameters.layer}}",
    "--select={{inputs.parameters.select}}",
    "--exclude={{inputs.parameters.exclude}}",
    "--full-refresh={{inputs.parameters.full_refresh}}",
    "--retry-of={{inputs.parameters.retry_of}}",
]


def _cron(docs: list[dict[str, Any]], job_name: str) -> dict[str, Any]:
    return chart.named(docs, "CronWorkflow", f"{TEMPLATE_NAME}-{job_name}")


def _template(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return chart.named(docs, "WorkflowTemplate", TEMPLATE_NAME)


def _parameters(spec: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: p["value"] for p in spec.get("arguments", {}).get("parameters", [])}


def test_layer_choices_match_the_runtime_and_dbt_selectors() -> None:
    selectors = yaml.safe_load((chart.REPO_ROOT / "dbt" / "selectors.yml").read_text())
    assert set(LAYERS) == {s["name"] for s in selectors["selectors"]}


def test_batch_tested_layers_are_the_hourly_jobs_and_never_maintenance() -> None:
    """dbt's var batch_test_selectors (dbt/macros/test_scope.sql) names the layers whose tests
    read only the run's batch: exactly the layers scheduled every hour. The daily maintenance
    and the weekly full refresh are the whole-table checks, so they must never be in it."""
    project = yaml.safe_load((chart.REPO_ROOT / "dbt" / "dbt_project.yml").read_text())
    batch_tested = set(project["vars"]["batch_test_selectors"])
    hourly = {job.layer for job in JOBS if job.scheduled and job.interval_seconds <= 3600}
    assert batch_tested == hourly
    whole_table = {job.layer for job in JOBS if job.name in ("maintenance", "full-refresh")}
    assert whole_table == {"maintenance", "all"}
    assert not batch_tested & whole_table
    assert project["vars"]["test_scope"] in params.TEST_SCOPES


def test_template_parameters_are_choices_with_descriptions(
    default_docs: list[dict[str, Any]],
) -> None:
    arguments = {p["name"]: p for p in _template(default_docs)["spec"]["arguments"]["parameters"]}
    assert set(arguments) == {"layer", "select", "exclude", "full_refresh", "retry_of"}
    assert arguments["layer"]["enum"] == list(LAYERS)
    assert arguments["full_refresh"]["enum"] == ["false", "true"]
    assert all(p["description"] for p in arguments.values())
    assert arguments["select"]["value"] == arguments["exclude"]["value"] == ""
    assert arguments["retry_of"]["value"] == ""


DAILY = r"\d+ \d+ \* \* \*"
HOURLY = r"\d+ \* \* \* \*"
EVERY_6_HOURS = r"\d+ \*/6 \* \* \*"
WEEKLY = r"\d+ \d+ \* \* [0-6]"


def test_seed_cadence() -> None:
    """The Scout Retail refresh cadence, as a shape of each cron (the minute and hour are the
    job table's to choose): bronze daily, silver hourly, gold every 6 h, platinum on demand, one
    daily maintenance, a weekly full refresh, docs daily."""
    by_name = {job.name: job for job in JOBS}
    cadence = {
        "bronze": DAILY,
        "silver": HOURLY,
        "gold": EVERY_6_HOURS,
        "maintenance": DAILY,
        "full-refresh": WEEKLY,
        "docs": DAILY,
    }
    for name, shape in cadence.items():
        (schedule,) = by_name[name].schedules
        assert re.fullmatch(shape, schedule), (name, schedule)
    assert by_name["platinum"].schedules == ()  # on demand only
    maintenance, weekly = by_name["maintenance"], by_name["full-refresh"]
    assert maintenance.layer == "maintenance"
    assert (weekly.layer, weekly.full_refresh) == ("all", True)


@pytest.mark.parametrize("job", scheduled_jobs(), ids=lambda job: job.name)
def test_each_cron_runs_its_layer_on_its_schedule(
    all_crons_docs: list[dict[str, Any]], job: Any
) -> None:
    cron = _cron(all_crons_docs, job.name)
    spec = cron["spec"]
    assert spec["schedules"] == list(job.schedules)
    assert spec["timezone"] == job.timezone == "Asia/Manila"
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] > 0
    assert spec["successfulJobsHistoryLimit"] > 0 and spec["failedJobsHistoryLimit"] > 0
    assert spec["suspend"] is False
    workflow = spec["workflowSpec"]
    assert workflow["workflowTemplateRef"] == {"name": TEMPLATE_NAME}
    assert "templates" not in workflow  # no copy of the pod spec per layer
    # Parameters only: the template gives every path the job's budget (test_budget.py).
    assert "activeDeadlineSeconds" not in workflow and "retryStrategy" not in workflow
    if job.layer == "docs":
        assert workflow["entrypoint"] == "docs-publish"
    else:
        assert _parameters(workflow) == {
            "layer": job.layer,
            "select": "",
            "exclude": "",
            "full_refresh": "true" if job.full_refresh else "false",
            "retry_of": "",
        }


def test_no_cron_for_platinum(rendered_scenarios: dict[str, list[dict[str, Any]]]) -> None:
    for docs in rendered_scenarios.values():
        for cron in chart.by_kind(docs, "CronWorkflow"):
            assert _parameters(cron["spec"]["workflowSpec"]).get("layer") != "platinum"


def test_values_override_schedules_timezone_and_suspend(
    rendered_scenarios: dict[str, list[dict[str, Any]]],
) -> None:
    everything = rendered_scenarios["everything-on-values"]
    assert _cron(everything, "silver")["spec"]["schedules"] == ["15 * * * *", "45 * * * *"]
    assert _cron(everything, "silver")["spec"]["timezone"] == "UTC"
    prod_like = rendered_scenarios["prod-like-values"]
    assert _cron(prod_like, "full-refresh")["spec"]["suspend"] is True
    assert _cron(prod_like, "gold")["spec"]["suspend"] is False


def test_template_lifecycle_fields(default_docs: list[dict[str, Any]]) -> None:
    spec = _template(default_docs)["spec"]
    assert spec["activeDeadlineSeconds"] == max(job.timeout_seconds for job in JOBS)
    assert spec["podGC"]["strategy"] == "OnPodSuccess"
    assert spec["ttlStrategy"]["secondsAfterSuccess"] > 0
    assert spec["ttlStrategy"]["secondsAfterFailure"] > 0
    assert spec["serviceAccountName"] == TEMPLATE_NAME


def test_run_container_contract(default_docs: list[dict[str, Any]]) -> None:
    spec = _template(default_docs)["spec"]
    (run,) = [t for t in spec["templates"] if t["name"] == "dbt-run"]
    container = run["container"]
    assert container["args"] == RUN_ARGS
    assert container["command"] == ["workbench"]  # the image ENTRYPOINT, stated
    assert container["image"] == "dbt-workbench/dbt-runtime:0.1.0"
    assert container["envFrom"] == [
        {"secretRef": {"name": "dbt-workbench-postgres"}},
        {"secretRef": {"name": "dbt-workbench-aws", "optional": True}},
    ]
    env = {e["name"]: e for e in container["env"]}
    assert env["WORKFLOW_NAME"]["value"] == "{{workflow.name}}"
    assert env["WORKFLOW_UID"]["value"] == "{{workflow.uid}}"
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert env["DBT_TARGET_PATH"]["value"] == "/work/target"
    assert env["DBT_LOG_PATH"]["value"] == "/work/logs"
    assert env["TMPDIR"]["value"] == "/tmp"  # noqa: S108 - the pod's own emptyDir
    assert env["PUSHGATEWAY_URL"]["value"] == ""  # pushing is off until a URL is configured
    assert env["WORKBENCH_ARTIFACTS_URL"]["value"] == ""  # no bucket: artifacts not kept
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    assert "metrics" not in run  # per attempt and again per retried step: see test_metric_names


def test_docs_publish_uses_the_bucket_and_optional_aws_secret(
    everything_on_docs: list[dict[str, Any]], default_docs: list[dict[str, Any]]
) -> None:
    def docs_container(docs: list[dict[str, Any]]) -> dict[str, Any]:
        (docs_template,) = [
            t for t in _template(docs)["spec"]["templates"] if t["name"] == "docs-publish"
        ]
        container: dict[str, Any] = docs_template["container"]
        return container

    published = docs_container(everything_on_docs)
    assert published["args"] == [
        "docs",
        "--publish",
        "s3://scout-retail-dbt-docs/dbt-workbench/dev",
    ]
    assert {"secretRef": {"name": "dbt-workbench-aws", "optional": True}} in published["envFrom"]
    assert published["image"].endswith("@sha256:" + "0123456789abcdef" * 4)
    assert docs_container(default_docs)["args"] == ["docs"]  # no bucket: generate only
    (run,) = [
        t for t in _template(everything_on_docs)["spec"]["templates"] if t["name"] == "dbt-run"
    ]
    env = {e["name"]: e.get("value") for e in run["container"]["env"]}
    assert env["WORKBENCH_ARTIFACTS_URL"] == "s3://scout-retail-dbt-docs/dbt-workbench/dev"


def _pod_specs(
    docs: list[dict[str, Any]],
) -> Iterator[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(object, pod-level securityContext, containers' securityContexts + mounts) of every pod."""
    for doc in docs:
        name = f"{doc['kind']} {doc['metadata']['name']}"
        if doc["kind"] == "WorkflowTemplate":
            containers = [t["container"] for t in doc["spec"]["templates"] if "container" in t]
            yield name, doc["spec"]["securityContext"], containers
        elif doc["kind"] in {"EventSource", "Sensor"}:
            template = doc["spec"]["template"]
            yield name, template["securityContext"], [template["container"]]


def test_every_pod_runs_restricted(rendered_scenarios: dict[str, list[dict[str, Any]]]) -> None:
    seen = set()
    for docs in rendered_scenarios.values():
        for name, pod, containers in _pod_specs(docs):
            seen.add(name.split()[0])
            assert pod["runAsNonRoot"] is True, name
            assert isinstance(pod["runAsUser"], int) and pod["runAsUser"] > 0, name
            assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
            for container in containers:
                context = container["securityContext"]
                assert context["readOnlyRootFilesystem"] is True, name
                assert context["allowPrivilegeEscalation"] is False, name
                assert context["capabilities"] == {"drop": ["ALL"]}, name
    assert seen == {"WorkflowTemplate", "EventSource", "Sensor"}


def test_writable_paths_are_emptydirs(default_docs: list[dict[str, Any]]) -> None:
    """Every writable mount is an emptyDir; the pull's sources file is a read-only mount."""
    pods = [t for t in _template(default_docs)["spec"]["templates"] if "container" in t]
    assert {t["name"] for t in pods} == {RUN_ENTRYPOINT, DOCS_ENTRYPOINT, PULL_STEP}
    for template in pods:
        volumes = {v["name"]: v for v in template["volumes"]}
        all_mounts = template["container"]["volumeMounts"]
        mounts = {m["mountPath"]: m["name"] for m in all_mounts if not m.get("readOnly")}
        read_only = {m["mountPath"] for m in all_mounts if m.get("readOnly")}
        dbt = {"/work/target", "/work/logs"} if template["name"] != PULL_STEP else set()
        outputs = {OUTPUTS_DIR} if template["name"] != DOCS_ENTRYPOINT else set()
        assert set(mounts) == {"/tmp"} | dbt | outputs  # noqa: S108
        assert all("emptyDir" in volumes[name] for name in mounts.values())
        assert read_only == ({INGEST_SOURCES_MOUNT_DIR} if template["name"] == PULL_STEP else set())


CREDENTIAL_PATTERNS = [
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key id
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    re.compile(r"postgres(ql)?://[^/\s:]+:[^@\s]+@"),  # URL with an inline password
    re.compile(r"(?i)\b(password|passwd|secret_access_key|aws_secret_access_key)\b\s*[:=]\s*\S+"),
]


def _env_entries(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "env" and isinstance(value, list):
                yield from value
            else:
                yield from _env_entries(value)
    elif isinstance(node, list):
        for item in node:
            yield from _env_entries(item)


def test_no_manifest_contains_a_credential(
    rendered_scenarios: dict[str, list[dict[str, Any]]],
) -> None:
    texts = [yaml.safe_dump_all(docs) for docs in rendered_scenarios.values()]
    texts += [p.read_text() for p in (chart.REPO_ROOT / "deploy").rglob("*.yaml")]
    texts.append((chart.REPO_ROOT / "skaffold.yaml").read_text())
    for text in texts:
        for pattern in CREDENTIAL_PATTERNS:
            assert not pattern.search(text), pattern.pattern
    for docs in rendered_scenarios.values():
        assert not any(doc["kind"] == "Secret" for doc in docs)
        for entry in _env_entries(docs):
            if re.search(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY", entry["name"]):
                assert "value" not in entry, entry  # secrets only through secretRef


def _argo_expressions(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _argo_expressions(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _argo_expressions(item, f"{path}/{index}")
    elif isinstance(node, str) and "{{" in node:
        yield path, node


def _at(node: Any, path: str) -> Any:
    for step in path.strip("/").split("/"):
        node = node[int(step)] if isinstance(node, list) else node[step]
    return node


def test_argo_expressions_survive_helm_byte_for_byte(
    default_docs: list[dict[str, Any]], all_crons_docs: list[dict[str, Any]]
) -> None:
    built = build_workflow_template().to_dict()
    expressions = [(p, e) for p, e in _argo_expressions(built) if "HELMx" not in e]
    assert len(expressions) >= 10
    rendered = _template(default_docs)
    for path, expression in expressions:
        assert _at(rendered, path) == expression, path
    mutex = "/spec/synchronization/mutexes/1/name"
    assert _at(rendered, mutex).startswith("wb-dbt-workbench-{{=(workflow.mainEntrypoint in [")
    for job in scheduled_jobs():
        cron_built = build_cron_workflow(job).to_dict()
        for path, expression in _argo_expressions(cron_built):
            assert _at(_cron(all_crons_docs, job.name), path) == expression, path


def test_executor_role_is_least_privilege(default_docs: list[dict[str, Any]]) -> None:
    (role,) = chart.by_kind(default_docs, "Role")
    assert role["rules"] == [
        {
            "apiGroups": ["argoproj.io"],
            "resources": ["workflowtaskresults"],
            "verbs": ["create", "patch"],
        }
    ]
    (binding,) = chart.by_kind(default_docs, "RoleBinding")
    assert binding["subjects"][0]["name"] == _template(default_docs)["spec"]["serviceAccountName"]


def _hours(seconds: int) -> str:
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def test_docs_schedule_table_matches_the_layer_table() -> None:
    table = (chart.REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")
    }
    for job in JOBS:
        key = f"`{job.name}`" if job.scheduled else job.name
        row = rows[key]
        assert all(f"`{schedule}`" in row for schedule in job.schedules), row
        assert f"| {job.retry_limit} |" in row, row
        alerted = job.scheduled and job.entrypoint != DOCS_ENTRYPOINT
        stale = _hours(job.stale_after_seconds) if alerted else "—"
        assert row.endswith(f"| {stale} |"), row


def test_artifact_repository_is_the_namespace_default(
    everything_on_docs: list[dict[str, Any]],
) -> None:
    config = chart.named(everything_on_docs, "ConfigMap", "artifact-repositories")
    key = config["metadata"]["annotations"]["workflows.argoproj.io/default-artifact-repository"]
    repository = yaml.safe_load(config["data"][key])
    assert repository["s3"]["bucket"] == "scout-retail-argo-artifacts"
    assert repository["s3"]["useSDKCreds"] is True
    assert repository["s3"]["keyFormat"] == "dbt-workbench/{{workflow.name}}/{{pod.name}}"
