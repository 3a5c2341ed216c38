"""The chart's scheduled pulls (values `ingest.pulls`, issue 18), rendered by the real helm: the
ConfigMap holds a sources file `workbench ingest --sources` accepts, and bad values fail at
install time, not at 03:00."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.manifests import chart
from tests.validation.validator import schema_errors
from workbench.contract import ENTITIES, INGEST_SOURCES_FILE_NAME, SOURCES
from workbench.ingest.pulls import Pull, read_pulls

PULLS = [
    {"uri": "gdrive://1AbCdEfGhIjKlMnOpQrStUvWxYz012345", "entity": "transactions"},
    {"uri": "gdrive://1CatalogSheets/catalog*", "entity": "products", "source": "gdrive"},
    {"uri": "s3://scout-landing/drops/*/transactions-*.csv", "entity": "transactions"},
]


def _values(tmp_path: Path, ingest: dict[str, Any]) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(
        yaml.safe_dump({"postgres": {"existingSecret": "pg"}, "ingest": ingest}, sort_keys=False)
    )
    return path


def _render(values: Path) -> chart.HelmResult:
    args = ["template", chart.RELEASE, str(chart.CHART_DIR), "-n", chart.NAMESPACE]
    return chart.helm(*args, "-f", str(values))


def _sources_config_maps(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        doc
        for doc in chart.by_kind(docs, "ConfigMap")
        if doc["metadata"]["name"].endswith("-ingest-sources")
    ]


def test_no_pulls_no_config_map(default_docs: list[dict[str, Any]]) -> None:
    assert _sources_config_maps(default_docs) == []


def test_the_config_map_holds_a_sources_file_the_runtime_accepts(tmp_path: Path) -> None:
    ingest = {"pulls": PULLS, "gdrive": {"credentialsSecret": {"name": "drive-key"}}}
    result = _render(_values(tmp_path, ingest))
    assert result.returncode == 0, result.stderr
    (config_map,) = _sources_config_maps(chart.documents(result.stdout))
    assert schema_errors(config_map) == []
    assert config_map["metadata"]["name"] == "wb-dbt-workbench-ingest-sources"
    assert set(config_map["data"]) == {INGEST_SOURCES_FILE_NAME}
    mounted = tmp_path / INGEST_SOURCES_FILE_NAME
    mounted.write_text(config_map["data"][INGEST_SOURCES_FILE_NAME])
    assert read_pulls(str(mounted)) == [
        Pull(PULLS[0]["uri"], "transactions"),
        Pull(PULLS[1]["uri"], "products", "gdrive"),
        Pull(PULLS[2]["uri"], "transactions"),
    ]


def test_a_drive_pull_without_the_key_secret_fails_rendering(tmp_path: Path) -> None:
    result = _render(_values(tmp_path, {"pulls": PULLS[:1]}))
    assert result.returncode != 0
    assert "ingest.gdrive.credentialsSecret.name is required" in result.stderr
    s3_only = _render(_values(tmp_path, {"pulls": PULLS[2:]}))
    assert s3_only.returncode == 0, s3_only.stderr


@pytest.mark.parametrize(
    ("ingest", "where"),
    [
        ({"pulls": [{"uri": "gdrive://1AbC", "entity": "orders"}]}, "/ingest/pulls/0/entity"),
        ({"pulls": [{"uri": "s3://b/k.csv", "entity": "products", "bucket": "b"}]}, "bucket"),
        # a path on the pod's own disk names nothing the step can read
        ({"pulls": [{"uri": "/data/drops/*.csv", "entity": "products"}]}, "/ingest/pulls/0/uri"),
        ({"pulls": [{"uri": "gdrive://1AbC/sub/*.csv", "entity": "products"}]}, "/uri"),
        ({"pulls": [{"entity": "products"}]}, "uri"),
        ({"pulls": [], "maxErrorShare": 2}, "/ingest/maxErrorShare"),
        ({"pulls": [], "gdrive": {"apiUrl": "googleapis.com"}}, "/ingest/gdrive/apiUrl"),
    ],
)
def test_bad_pull_values_fail_at_install(
    tmp_path: Path, ingest: dict[str, Any], where: str
) -> None:
    result = _render(_values(tmp_path, ingest))
    assert result.returncode != 0
    assert where in result.stderr, result.stderr


def test_the_schema_offers_the_contracts_entities_and_sources() -> None:
    schema = json.loads((chart.CHART_DIR / "values.schema.json").read_text())
    item = schema["properties"]["ingest"]["properties"]["pulls"]["items"]["properties"]
    assert tuple(item["entity"]["enum"]) == ENTITIES
    assert tuple(item["source"]["enum"]) == SOURCES
