"""The chart's `workbench serve` Deployment, Service and PodDisruptionBudget, rendered by the
real helm: off by default; when on, the pod runs the command the runtime parses, with the
contract's environment names, probe paths and defaults, a token from an existing Secret, a
read-only root with writable dbt and temp directories, and a grace period longer than the
drain; every object valid against the Kubernetes schemas."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.manifests import chart
from tests.validation.validator import schema_errors
from workbench import contract
from workbench.serve import command as serve_command

ON = ("--set", "serve.enabled=true")


def _serve_docs(*extra: str) -> list[dict[str, Any]]:
    docs = chart.documents(chart.template(extra=(*ON, *extra)))
    return [
        doc
        for doc in docs
        if doc["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "serve"
    ]


def _one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = [doc for doc in docs if doc["kind"] == kind]
    return found


def _container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = _one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


def test_off_by_default(default_docs: list[dict[str, Any]]) -> None:
    names = [doc["metadata"]["name"] for doc in default_docs]
    assert not [name for name in names if name.endswith("-serve")]


def test_the_pod_runs_workbench_serve_as_the_runtime_parses_it() -> None:
    docs = _serve_docs()
    assert sorted(doc["kind"] for doc in docs) == ["Deployment", "PodDisruptionBudget", "Service"]
    assert {f"{d['kind']} {d['metadata']['name']}": schema_errors(d) for d in docs} == {
        f"{d['kind']} {d['metadata']['name']}": [] for d in docs
    }
    container = _container(docs)
    assert container["command"] == ["workbench"]
    assert container["args"][0] == "serve"
    parser = argparse.ArgumentParser()
    serve_command.add_arguments(parser)
    parsed = parser.parse_args(container["args"][1:])
    assert (parsed.host, parsed.port, parsed.no_bronze_follow) == ("0.0.0.0", 8080, False)  # noqa: S104
    assert container["ports"] == [
        {"name": "http", "containerPort": contract.SERVE_PORT, "protocol": "TCP"}
    ]
    assert container["livenessProbe"]["httpGet"] == {
        "path": contract.SERVE_HEALTH_PATH,
        "port": "http",
    }
    assert container["readinessProbe"]["httpGet"] == {
        "path": contract.SERVE_READY_PATH,
        "port": "http",
    }
    deployment = _one(docs, "Deployment")
    assert deployment["spec"]["replicas"] == 2


def test_settings_reach_the_pod_under_the_contract_names_and_defaults() -> None:
    env = _env(_container(_serve_docs()))
    assert env[contract.SERVE_TOKEN_ENV] == {
        "secretKeyRef": {"name": "dbt-workbench-ingest-token", "key": "token"}
    }
    assert int(env[contract.SERVE_MAX_BODY_BYTES_ENV]) == contract.SERVE_MAX_BODY_BYTES
    assert int(env[contract.SERVE_DRAIN_SECONDS_ENV]) == contract.SERVE_DRAIN_SECONDS
    assert (
        int(env[contract.SERVE_IDEMPOTENCY_RETENTION_ENV])
        == contract.SERVE_IDEMPOTENCY_RETENTION_SECONDS
    )
    assert float(env[contract.SERVE_BRONZE_DEBOUNCE_ENV]) == contract.SERVE_BRONZE_DEBOUNCE_SECONDS
    changed = _env(
        _container(
            _serve_docs(
                "--set", "serve.tokenSecret.name=pos-token",
                "--set", "serve.tokenSecret.key=bearer",
                "--set", "serve.maxBodyBytes=1048576",
                "--set-json", "serve.bronzeDebounceSeconds=2.5",
                "--set", "serve.followBronze=false",
            )
        )
    )  # fmt: skip
    assert changed[contract.SERVE_TOKEN_ENV]["secretKeyRef"] == {
        "name": "pos-token",
        "key": "bearer",
    }
    assert changed[contract.SERVE_MAX_BODY_BYTES_ENV] == "1048576"
    assert changed[contract.SERVE_BRONZE_DEBOUNCE_ENV] == "2.5"
    no_follow = _container(_serve_docs("--set", "serve.followBronze=false"))
    assert "--no-bronze-follow" in no_follow["args"]


def test_read_only_root_with_writable_dbt_and_temp_directories() -> None:
    docs = _serve_docs()
    container = _container(docs)
    pod = _one(docs, "Deployment")["spec"]["template"]["spec"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    env = _env(container)
    mounted = {mount["mountPath"] for mount in container["volumeMounts"]}
    assert {env["DBT_TARGET_PATH"], env["DBT_LOG_PATH"], env["TMPDIR"]} <= mounted
    assert container["envFrom"] == [{"secretRef": {"name": "dbt-workbench-postgres"}}]


def test_the_grace_period_outlasts_the_drain() -> None:
    pod = _one(_serve_docs(), "Deployment")["spec"]["template"]["spec"]
    drain = int(_env(_container(_serve_docs()))[contract.SERVE_DRAIN_SECONDS_ENV])
    assert pod["terminationGracePeriodSeconds"] > drain
    result = chart.helm(
        "template", chart.RELEASE, str(chart.CHART_DIR), *ON,
        "--set", "serve.drainSeconds=60", "--set", "serve.terminationGracePeriodSeconds=30",
    )  # fmt: skip
    assert result.returncode != 0
    assert "serve.terminationGracePeriodSeconds (30) must exceed serve.drainSeconds (60)" in (
        result.stderr
    )


def test_service_and_budget_select_the_serve_pods_only() -> None:
    docs = _serve_docs()
    pod_labels = _one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    service = _one(docs, "Service")
    budget = _one(docs, "PodDisruptionBudget")
    for selector in (service["spec"]["selector"], budget["spec"]["selector"]["matchLabels"]):
        assert selector.items() <= pod_labels.items()
        assert selector["app.kubernetes.io/component"] == "serve"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    assert budget["spec"]["maxUnavailable"] == 1
    without = _serve_docs("--set", "serve.podDisruptionBudget.enabled=false")
    assert "PodDisruptionBudget" not in {doc["kind"] for doc in without}


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("serve.port=80", "minimum"),
        ("serve.bogus=1", "additional"),
        ("serve.replicas=0", "minimum"),
    ],
)
def test_the_schema_refuses_bad_serve_values(setting: str, message: str) -> None:
    result = chart.helm("template", chart.RELEASE, str(chart.CHART_DIR), *ON, "--set", setting)
    assert result.returncode != 0
    assert message in result.stderr.lower()


def test_with_network_policies_the_serve_pods_take_clients_and_reach_only_their_peers() -> None:
    docs = _serve_docs(
        "--set", "networkPolicy.enabled=true",
        "--set", "networkPolicy.postgres.cidrs={10.0.5.0/24}",
        "--set", "networkPolicy.kubernetesApi.cidrs={10.0.0.1/32}",
        "--set", "metrics.pushgatewayUrl=http://pushgateway.monitoring:9091",
    )  # fmt: skip
    policy = _one(docs, "NetworkPolicy")
    assert schema_errors(policy) == []
    pod_labels = _one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["spec"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": 8080}]}]
    egress = policy["spec"]["egress"]
    assert all(rule.get("to") for rule in egress)  # a rule without peers would allow all
    assert {"ipBlock": {"cidr": "10.0.5.0/24"}} in egress[1]["to"]
    assert egress[2]["ports"] == [{"protocol": "TCP", "port": 9091}]
    assert len(egress) == 3  # DNS, PostgreSQL, Pushgateway: no Kubernetes API, no S3


# Checks that do not apply to the serve pod, each with the reason (CKV_K8S_21 as in
# tests/manifests/test_checkov.py). Nothing else may fail.
SERVE_SKIPPED_CHECKS = {
    "CKV_K8S_21": "no metadata.namespace by Helm convention (see test_checkov.py)",
    "CKV_K8S_35": (
        "the runtime reads its token and POSTGRES_* from the environment, the contract every"
        " workbench command and workflow pod keeps; the values come from Secrets, never values"
    ),
    "CKV_K8S_15": "the image is pinned by digest: pulling it again would fetch the same bytes",
}


def test_checkov_finds_nothing_unexplained_in_the_serve_objects(tmp_path: Path) -> None:
    rendered = chart.template(
        extra=(
            *ON,
            "--set", "image.digest=sha256:" + "0" * 64,
            "--set", "networkPolicy.enabled=true",
            "--set", "networkPolicy.postgres.cidrs={10.0.5.0/24}",
            "--set", "networkPolicy.kubernetesApi.cidrs={10.0.0.1/32}",
        )
    )  # fmt: skip
    serve = [
        doc
        for doc in chart.documents(rendered)
        if doc["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "serve"
    ]
    (tmp_path / "serve.yaml").write_text(yaml.safe_dump_all(serve), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "checkov.main", "-d", str(tmp_path), "--framework", "kubernetes",
         "--skip-check", ",".join(SERVE_SKIPPED_CHECKS), "--output", "json", "--quiet",
         "--compact"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        f"{check['check_id']} {check['resource']}"
        for one in reports
        for check in one["results"]["failed_checks"]
    ]
    assert failed == []
    assert reports[0]["summary"]["passed"] > 50
