"""Publish a docs site to S3: a versioned prefix, then switch ``latest/`` to it.

Layout below the prefix::

    versions/<version-id>/index.html, static_index.html, manifest.json, catalog.json
    versions/<version-id>/artifacts/run_results.json, manifest.json[, sources.json]
    versions/<version-id>/_version.json      written last: the version is complete
    latest/...                               a copy of the newest complete version
    latest/_version.json                     which version latest/ holds

S3 has no atomic rename, so ``latest/`` is switched in an order that never leaves it half
empty: every new object is copied in (JSON before HTML, so a new page never loads the
previous version's data), then the marker is rewritten, and only then are objects that are
not part of the new set deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from workbench.storage.content_types import content_type
from workbench.storage.location import S3Location

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MARKER = "_version.json"
ARTIFACTS_DIR = "artifacts"
# A version never changes once written; latest/ changes on every publish.
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
LATEST_CACHE = "no-cache"
_DELETE_BATCH = 1000  # the S3 DeleteObjects limit


class PublishError(RuntimeError):
    """S3 refused or failed; the message says which step, and what latest/ still holds."""


@dataclass(frozen=True)
class PublishResult:
    version_id: str
    version_url: str
    latest_url: str
    files: tuple[str, ...]  # names relative to the version prefix
    stale_deleted: tuple[str, ...]  # keys removed from latest/


def plan_files(site: Mapping[str, Path], artifacts: Mapping[str, Path]) -> dict[str, Path]:
    """Relative name -> local file for everything a version holds."""
    files = dict(site)
    files.update({f"{ARTIFACTS_DIR}/{name}": path for name, path in artifacts.items()})
    return files


def _switch_order(names: Iterable[str]) -> list[str]:
    # HTML last: a browser that loads the new index.html finds the new JSON already there.
    return sorted(names, key=lambda name: (name.endswith(".html"), name))


def _marker_body(version_id: str, published_at: datetime, names: Iterable[str]) -> bytes:
    document = {
        "version_id": version_id,
        "published_at": published_at.isoformat(),
        "files": sorted(names),
    }
    return json.dumps(document, indent=2).encode()


def publish(
    client: S3Client,
    location: S3Location,
    version_id: str,
    files: Mapping[str, Path],
    published_at: datetime,
) -> PublishResult:
    from botocore.exceptions import BotoCoreError, ClientError

    step = "uploading the versioned copy"
    version_prefix = location.key("versions", version_id)
    latest_prefix = location.key("latest")
    try:
        for name in _switch_order(files):
            client.upload_file(
                str(files[name]),
                location.bucket,
                f"{version_prefix}/{name}",
                ExtraArgs={"ContentType": content_type(name), "CacheControl": IMMUTABLE_CACHE},
            )
        marker = _marker_body(version_id, published_at, files)
        client.put_object(
            Bucket=location.bucket,
            Key=f"{version_prefix}/{MARKER}",
            Body=marker,
            ContentType="application/json",
            CacheControl=IMMUTABLE_CACHE,
        )
        step = "copying the new version into latest/ (latest/ may mix old and new files)"
        for name in _switch_order(files):
            client.copy_object(
                Bucket=location.bucket,
                Key=f"{latest_prefix}/{name}",
                CopySource={"Bucket": location.bucket, "Key": f"{version_prefix}/{name}"},
                MetadataDirective="REPLACE",
                ContentType=content_type(name),
                CacheControl=LATEST_CACHE,
            )
        client.put_object(
            Bucket=location.bucket,
            Key=f"{latest_prefix}/{MARKER}",
            Body=marker,
            ContentType="application/json",
            CacheControl=LATEST_CACHE,
        )
        step = "deleting stale objects from latest/ (the new version is complete there)"
        keep = {f"{latest_prefix}/{name}" for name in files} | {f"{latest_prefix}/{MARKER}"}
        present = _list_keys(client, location.bucket, latest_prefix)
        stale = [key for key in present if key not in keep]
        _delete(client, location.bucket, stale)
    except (BotoCoreError, ClientError, OSError) as exc:
        raise PublishError(
            f"publishing docs to s3://{location.bucket}/{location.prefix} failed while {step}: "
            f"{exc}"
        ) from exc
    return PublishResult(
        version_id=version_id,
        version_url=location.url("versions", version_id) + "/",
        latest_url=location.url("latest") + "/",
        files=tuple(sorted(files)),
        stale_deleted=tuple(sorted(stale)),
    )


def _list_keys(client: S3Client, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/")
    for page in pages:
        keys.extend(item["Key"] for item in page.get("Contents", []) if "Key" in item)
    return keys


def _delete(client: S3Client, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), _DELETE_BATCH):
        batch = keys[start : start + _DELETE_BATCH]
        response = client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise PublishError(
                f"S3 refused to delete {len(errors)} stale object(s) under latest/, e.g. "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )
