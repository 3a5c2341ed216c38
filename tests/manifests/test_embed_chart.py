"""The chart's embed configuration (values `embed`, issue 20), rendered by the real helm: the
run pods that build platinum hand `workbench embed` the provider, endpoint, model and key the
values name, the runtime reads them back as the same settings, and bad values fail at install
time instead of as exit 3 at the first platinum run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.manifests import chart
from tests.validation.validator import schema_errors
from workbench.contract import EMBED_API_KEY_ENV, EMBED_PROVIDERS
from workbench.embed.provider import EmbedError
from workbench.embed.settings import MAX_DIMENSIONS, MAX_WINDOW_DAYS, EmbedSettings
from workflows.layers import RUN_ENTRYPOINT
from workflows.template import EMBED_VALUES

TEMPLATE = "wb-dbt-workbench"
OPENAI = {
    "provider": "openai",
    "url": "http://tei.ml.svc.cluster.local:8080/v1",
    "model": "bge-small-en-v1.5",
    "dimensions": 384,
    "windowDays": 30,
    "apiKeySecret": {"name": "tei-key", "key": "token"},
}


def _render(tmp_path: Path, embed: dict[str, Any] | None) -> chart.HelmResult:
    values: dict[str, Any] = {"postgres": {"existingSecret": "pg"}}
    if embed is not None:
        values["embed"] = embed
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return chart.helm("template", chart.RELEASE, str(chart.CHART_DIR), "-f", str(path))


def _run_container(result: chart.HelmResult) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    docs = chart.documents(result.stdout)
    for doc in docs:
        assert schema_errors(doc) == [], (doc["kind"], doc["metadata"]["name"])
    spec = chart.named(docs, "WorkflowTemplate", TEMPLATE)["spec"]
    [template] = [t for t in spec["templates"] if t["name"] == RUN_ENTRYPOINT]
    container: dict[str, Any] = template["container"]
    return container


def _pod_env(container: dict[str, Any], secrets: dict[tuple[str, str], str]) -> dict[str, str]:
    """The environment the kubelet would give the pod: literal values, and a secretKeyRef's
    value when that Secret and key exist (optional refs to a missing Secret are left out)."""
    env: dict[str, str] = {}
    for entry in container["env"]:
        if "value" in entry:
            env[entry["name"]] = entry["value"]
            continue
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref is not None and (ref["name"], ref["key"]) in secrets:
            env[entry["name"]] = secrets[(ref["name"], ref["key"])]
    return env


def test_the_run_pod_hands_embed_the_configured_endpoint_and_key(tmp_path: Path) -> None:
    container = _run_container(_render(tmp_path, OPENAI))
    [key_ref] = [e for e in container["env"] if e["name"] == EMBED_API_KEY_ENV]
    assert key_ref["valueFrom"]["secretKeyRef"] == {
        "name": "tei-key",
        "key": "token",
        "optional": True,
    }
    settings = EmbedSettings.from_env(_pod_env(container, {("tei-key", "token"): "s3cr3t"}))
    assert settings == EmbedSettings(
        provider="openai",
        model="bge-small-en-v1.5",
        dimensions=384,
        url="http://tei.ml.svc.cluster.local:8080/v1",
        api_key="s3cr3t",
        window_days=30,
    )


def test_default_values_keep_the_runtimes_defaults(tmp_path: Path) -> None:
    """No embed values: every variable is empty, which the runtime reads as unset; the key's
    Secret is optional, so a release without it still starts its pods."""
    container = _run_container(_render(tmp_path, None))
    env = _pod_env(container, {})
    assert {env[name] for name in EMBED_VALUES.values()} == {""}
    assert EMBED_API_KEY_ENV not in env
    default = EmbedSettings.from_env(env)
    assert default == EmbedSettings.from_env({})
    assert default.window_days == 90


@pytest.mark.parametrize(
    ("embed", "where"),
    [
        ({**OPENAI, "provider": "cohere"}, "/embed/provider"),
        ({**OPENAI, "url": ""}, "/embed/url"),  # openai needs its endpoint ...
        ({**OPENAI, "model": ""}, "/embed/model"),  # ... and its model
        ({**OPENAI, "url": "tei:8080/v1"}, "/embed/url"),
        ({**OPENAI, "dimensions": MAX_DIMENSIONS + 1}, "/embed/dimensions"),
        ({**OPENAI, "dimensions": 0}, "/embed/dimensions"),
        ({**OPENAI, "windowDays": MAX_WINDOW_DAYS + 1}, "/embed/windowDays"),
        ({**OPENAI, "apiKeySecret": {"name": "", "key": "token"}}, "/embed/apiKeySecret/name"),
        ({**OPENAI, "batch": 10}, "batch"),
    ],
)
def test_bad_embed_values_fail_at_install(
    tmp_path: Path, embed: dict[str, Any], where: str
) -> None:
    result = _render(tmp_path, embed)
    assert result.returncode != 0
    assert where in result.stderr, result.stderr


def test_the_schema_bounds_are_the_runtimes() -> None:
    """The values the schema accepts are exactly what EmbedSettings accepts: a value passing
    install never fails as exit 3 in the pod."""
    schema = json.loads((chart.CHART_DIR / "values.schema.json").read_text())
    embed = schema["properties"]["embed"]["properties"]
    assert tuple(embed["provider"]["enum"]) == ("", *EMBED_PROVIDERS)
    for key, highest in (("dimensions", MAX_DIMENSIONS), ("windowDays", MAX_WINDOW_DAYS)):
        [number] = [choice for choice in embed[key]["oneOf"] if choice["type"] == "integer"]
        assert (number["minimum"], number["maximum"]) == (1, highest)
        for edge in (1, highest):
            EmbedSettings.from_env({EMBED_VALUES[key]: str(edge)})  # accepted
        for outside in (0, highest + 1):
            with pytest.raises(EmbedError):
                EmbedSettings.from_env({EMBED_VALUES[key]: str(outside)})


def _policy(tmp_path: Path, embed: dict[str, Any], embed_cidrs: list[str]) -> chart.HelmResult:
    values: dict[str, Any] = {
        "postgres": {"existingSecret": "pg"},
        "embed": embed,
        "networkPolicy": {
            "enabled": True,
            "postgres": {"cidrs": ["10.20.0.0/16"]},
            "kubernetesApi": {"cidrs": ["172.20.0.1/32"]},
            "embed": {"port": 8080, "cidrs": embed_cidrs},
        },
    }
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return chart.helm("template", chart.RELEASE, str(chart.CHART_DIR), "-f", str(path))


def _egress_to(result: chart.HelmResult, port: int) -> list[list[dict[str, Any]]]:
    assert result.returncode == 0, result.stderr
    policy = chart.named(chart.documents(result.stdout), "NetworkPolicy", f"{TEMPLATE}-workflows")
    return [
        rule["to"]
        for rule in policy["spec"]["egress"]
        if {"protocol": "TCP", "port": port} in rule.get("ports", [])
    ]


def test_the_network_policy_opens_the_embeddings_endpoint_only_for_openai(
    tmp_path: Path,
) -> None:
    """With the policy on, a platinum run's embed could reach nothing but what the policy
    names: an openai provider without the endpoint's CIDRs fails rendering, with them exactly
    those CIDRs open on its port; the in-package model needs no egress and gets none."""
    refused = _policy(tmp_path, OPENAI, [])
    assert refused.returncode != 0
    assert "networkPolicy.embed.cidrs" in refused.stderr
    opened = _egress_to(_policy(tmp_path, OPENAI, ["10.30.4.0/24"]), 8080)
    assert opened == [[{"ipBlock": {"cidr": "10.30.4.0/24"}}]]
    in_package = _egress_to(_policy(tmp_path, {"provider": "wordllama"}, ["10.30.4.0/24"]), 8080)
    assert in_package == []
