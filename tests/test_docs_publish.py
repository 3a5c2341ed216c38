"""Docs publishing against a real S3 API over HTTP (moto in server mode on loopback)."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from workbench.run.s3_artifacts import publish_run_artifacts
from workbench.storage.content_types import content_type
from workbench.storage.location import S3Location
from workbench.storage.publish import MARKER, PublishError, plan_files, publish
from workbench.storage.s3client import make_s3_client
from workbench.storage.version import default_version_id, validate_version_id

pytestmark = pytest.mark.integration  # S3 served by moto over HTTP

WHEN = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)


@pytest.fixture()
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    name = f"docs-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


def _site(root: Path, label: str, names: list[str]) -> dict[str, Path]:
    root.mkdir(parents=True, exist_ok=True)
    files = {}
    for name in names:
        path = root / name.replace("/", "__")
        body = f"<html>{label}</html>" if name.endswith(".html") else json.dumps({"v": label})
        path.write_text(body)
        files[name] = path
    return files


def _keys(bucket: str, prefix: str) -> set[str]:
    client = boto3.client("s3")
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {item["Key"] for page in pages for item in page.get("Contents", [])}


def _read(bucket: str, key: str) -> str:
    body: bytes = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return body.decode()


FIRST = ["index.html", "static_index.html", "manifest.json", "catalog.json"]
FIRST_ARTIFACTS = ["run_results.json", "manifest.json", "sources.json"]


def _publish_first(tmp_path: Path, bucket: str) -> None:
    site = _site(tmp_path / "v1", "one", FIRST)
    artifacts = _site(tmp_path / "v1a", "one", FIRST_ARTIFACTS)
    publish(
        make_s3_client(), S3Location(bucket, "scout/docs"), "v1", plan_files(site, artifacts), WHEN
    )


def test_latest_index_is_served_over_http_as_html(
    tmp_path: Path, bucket: str, s3_endpoint: str
) -> None:
    _publish_first(tmp_path, bucket)

    # A plain HTTP GET, as a browser does (signed: the bucket is private).
    url = boto3.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "scout/docs/latest/index.html"}
    )
    assert url.startswith(f"{s3_endpoint}/")
    with urllib.request.urlopen(url) as response:  # noqa: S310 - http to the loopback server
        assert response.headers["Content-Type"] == "text/html; charset=utf-8"
        assert response.read().decode() == "<html>one</html>"
    head = boto3.client("s3").head_object(Bucket=bucket, Key="scout/docs/latest/catalog.json")
    assert head["ContentType"] == "application/json"
    assert head["CacheControl"] == "no-cache"
    versioned = boto3.client("s3").head_object(
        Bucket=bucket, Key="scout/docs/versions/v1/index.html"
    )
    assert versioned["ContentType"] == "text/html; charset=utf-8"
    assert "immutable" in versioned["CacheControl"]


def test_version_holds_site_artifacts_and_a_marker(tmp_path: Path, bucket: str) -> None:
    _publish_first(tmp_path, bucket)

    expected = {f"scout/docs/versions/v1/{name}" for name in FIRST}
    expected |= {f"scout/docs/versions/v1/artifacts/{name}" for name in FIRST_ARTIFACTS}
    expected.add(f"scout/docs/versions/v1/{MARKER}")
    assert _keys(bucket, "scout/docs/versions/") == expected
    marker = json.loads(_read(bucket, f"scout/docs/latest/{MARKER}"))
    assert marker["version_id"] == "v1"
    assert marker["published_at"] == WHEN.isoformat()
    assert len(marker["files"]) == len(FIRST) + len(FIRST_ARTIFACTS)
    assert json.loads(_read(bucket, "scout/docs/latest/artifacts/run_results.json")) == {"v": "one"}


def test_second_publish_replaces_latest_and_removes_stale_objects(
    tmp_path: Path, bucket: str
) -> None:
    _publish_first(tmp_path, bucket)
    # The second version has no static page and no sources.json: both are stale in latest/.
    site = _site(tmp_path / "v2", "two", ["index.html", "manifest.json", "catalog.json"])
    artifacts = _site(tmp_path / "v2a", "two", ["run_results.json", "manifest.json"])

    result = publish(
        make_s3_client(), S3Location(bucket, "scout/docs"), "v2", plan_files(site, artifacts), WHEN
    )

    assert set(result.stale_deleted) == {
        "scout/docs/latest/static_index.html",
        "scout/docs/latest/artifacts/sources.json",
    }
    assert _keys(bucket, "scout/docs/latest/") == {
        "scout/docs/latest/index.html",
        "scout/docs/latest/manifest.json",
        "scout/docs/latest/catalog.json",
        "scout/docs/latest/artifacts/run_results.json",
        "scout/docs/latest/artifacts/manifest.json",
        f"scout/docs/latest/{MARKER}",
    }
    assert _read(bucket, "scout/docs/latest/index.html") == "<html>two</html>"
    assert json.loads(_read(bucket, f"scout/docs/latest/{MARKER}"))["version_id"] == "v2"
    # Both versions stay complete and browsable.
    assert _read(bucket, "scout/docs/versions/v1/static_index.html") == "<html>one</html>"
    assert _read(bucket, "scout/docs/versions/v1/index.html") == "<html>one</html>"
    assert _read(bucket, "scout/docs/versions/v2/index.html") == "<html>two</html>"
    assert result.latest_url == f"s3://{bucket}/scout/docs/latest/"


def test_latest_is_complete_at_every_step_of_the_switch(tmp_path: Path, bucket: str) -> None:
    """Stale objects go only after every new object and the marker are in latest/."""
    _publish_first(tmp_path, bucket)
    client = make_s3_client()
    calls: list[tuple[str, str]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params.get("Key", "")))
        if model.name == "DeleteObjects":
            # The state a reader sees just before the first deletion.
            calls.append(("LatestAtDelete", ",".join(sorted(_keys(bucket, "scout/docs/latest/")))))

    client.meta.events.register("before-parameter-build.s3.*", record)
    site = _site(tmp_path / "v2", "two", ["index.html", "manifest.json", "catalog.json"])
    publish(client, S3Location(bucket, "scout/docs"), "v2", plan_files(site, {}), WHEN)

    names = [name for name, _ in calls]
    first_latest_write = min(
        i for i, (name, key) in enumerate(calls) if name == "CopyObject" and "/latest/" in key
    )
    last_version_write = max(i for i, (_, key) in enumerate(calls) if "/versions/v2/" in key)
    assert last_version_write < first_latest_write, (
        "latest/ changed before the version was complete"
    )
    copies = [key for name, key in calls if name == "CopyObject"]
    assert copies[-1] == "scout/docs/latest/index.html", "HTML must switch after its JSON"
    assert names.index("DeleteObjects") > max(i for i, n in enumerate(names) if n == "CopyObject")
    at_delete = dict(calls)["LatestAtDelete"].split(",")
    for name in ["index.html", "manifest.json", "catalog.json", MARKER]:
        assert f"scout/docs/latest/{name}" in at_delete


def test_failed_upload_leaves_latest_untouched(tmp_path: Path, bucket: str) -> None:
    _publish_first(tmp_path, bucket)
    site = _site(tmp_path / "v2", "two", ["index.html", "manifest.json", "catalog.json"])
    site["catalog.json"].unlink()  # the upload of one file fails halfway through the version

    with pytest.raises(PublishError, match="uploading the versioned copy"):
        publish(
            make_s3_client(), S3Location(bucket, "scout/docs"), "v2", plan_files(site, {}), WHEN
        )

    assert _read(bucket, "scout/docs/latest/index.html") == "<html>one</html>"
    assert json.loads(_read(bucket, f"scout/docs/latest/{MARKER}"))["version_id"] == "v1"
    assert f"scout/docs/versions/v2/{MARKER}" not in _keys(bucket, "scout/docs/versions/v2/")


def test_unreachable_endpoint_is_a_publish_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard port: refused
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    site = _site(tmp_path / "v", "x", ["index.html"])

    with pytest.raises(PublishError, match=r"s3://docs-bucket/p failed while uploading"):
        publish(make_s3_client(), S3Location("docs-bucket", "p"), "v", plan_files(site, {}), WHEN)


def test_bucket_root_prefix(tmp_path: Path, bucket: str) -> None:
    site = _site(tmp_path / "v", "root", ["index.html", "manifest.json", "catalog.json"])
    publish(make_s3_client(), S3Location.parse(f"s3://{bucket}"), "r1", plan_files(site, {}), WHEN)
    assert "latest/index.html" in _keys(bucket, "latest/")
    assert "versions/r1/catalog.json" in _keys(bucket, "versions/")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("static_index.html", "text/html; charset=utf-8"),
        ("catalog.json", "application/json"),
        ("artifacts/run_results.json", "application/json"),
        ("notes.TXT", "text/plain; charset=utf-8"),
        ("logo.png", "image/png"),
        ("blob.unknownext", "application/octet-stream"),
    ],
)
def test_content_types(name: str, expected: str) -> None:
    assert content_type(name) == expected


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://docs-bucket", "docs-bucket", ""),
        ("s3://docs-bucket/", "docs-bucket", ""),
        ("s3://docs-bucket/a/b/", "docs-bucket", "a/b"),
        ("s3://docs.example.com//a//b", "docs.example.com", "a/b"),
    ],
)
def test_location_parse(url: str, bucket: str, prefix: str) -> None:
    location = S3Location.parse(url)
    assert (location.bucket, location.prefix) == (bucket, prefix)


@pytest.mark.parametrize(
    "url", ["docs-bucket/a", "s3://Docs/a", "s3://ab", "s3://b-ucket/a/../x", "https://x/y"]
)
def test_location_rejects(url: str) -> None:
    with pytest.raises(ValueError):
        S3Location.parse(url)


def test_version_ids() -> None:
    assert (
        default_version_id(WHEN, {"WORKFLOW_UID": "3F2A9C1E-77aa-4b"})
        == "20261125T180000Z-3f2a9c1e"
    )
    generated = default_version_id(WHEN, {})
    assert (
        generated.startswith("20261125T180000Z-") and len(generated) == len("20261125T180000Z-") + 8
    )
    assert validate_version_id("2026-11-25_run.7") == "2026-11-25_run.7"
    for bad in ["", "../x", "a/b", "-x", "a..b", "x" * 129, "a b"]:
        with pytest.raises(ValueError):
            validate_version_id(bad)


def test_run_artifacts_go_below_runs_layer(tmp_path: Path, bucket: str) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (target / "run_results.json").write_text('{"args": {"which": "build"}}')
    (target / "manifest.json").write_text("{}")
    (target / "catalog.json").write_text("{}")  # not an artifact
    env = {"WORKBENCH_ARTIFACTS_URL": f"s3://{bucket}/scout", "WORKFLOW_UID": "abcdef12-3456"}

    result = publish_run_artifacts(target, "silver", env)

    assert result is not None and result.version_id.endswith("-abcdef12")
    assert _keys(bucket, "scout/runs/silver/latest/") == {
        "scout/runs/silver/latest/artifacts/run_results.json",
        "scout/runs/silver/latest/artifacts/manifest.json",
        f"scout/runs/silver/latest/{MARKER}",
    }
    run_results = _read(bucket, "scout/runs/silver/latest/artifacts/run_results.json")
    assert json.loads(run_results) == {"args": {"which": "build"}}


def test_run_artifacts_need_the_setting(tmp_path: Path, bucket: str) -> None:
    (tmp_path / "run_results.json").write_text("{}")
    assert publish_run_artifacts(tmp_path, "silver", {}) is None
    assert _keys(bucket, "") == set()
    with pytest.raises(ValueError):
        publish_run_artifacts(tmp_path, "../gold", {"WORKBENCH_ARTIFACTS_URL": f"s3://{bucket}"})
