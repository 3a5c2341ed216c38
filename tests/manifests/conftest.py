"""Render each values scenario once per session (helm runs are the slow part)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.manifests import chart


@pytest.fixture(scope="session")
def rendered_scenarios() -> dict[str, list[dict[str, Any]]]:
    """Scenario name (ci file stem or deploy values stem) -> rendered documents."""
    scenarios: dict[str, list[dict[str, Any]]] = {}
    for values in [*chart.CI_VALUES, *chart.DEPLOY_VALUES]:
        scenarios[values.stem] = chart.documents(chart.template([values]))
    return scenarios


@pytest.fixture(scope="session")
def default_docs() -> list[dict[str, Any]]:
    """The chart with its own defaults (monitoring API present)."""
    return chart.documents(chart.template())


@pytest.fixture(scope="session")
def everything_on_docs(rendered_scenarios: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return rendered_scenarios["everything-on-values"]


@pytest.fixture(scope="session")
def everything_on_path() -> Path:
    return chart.CHART_DIR / "ci" / "everything-on-values.yaml"


@pytest.fixture(scope="session")
def all_crons_docs() -> list[dict[str, Any]]:
    """Chart defaults plus the docs publish (off by default), so every CronWorkflow renders."""
    extra = ("--set", "cronWorkflows.docs.enabled=true", "--set", "docs.bucket=docs-bucket")
    return chart.documents(chart.template(extra=extra))
