"""What to ingest: PATH arguments (file, directory, glob, s3://bucket/key-prefix-or-glob) resolved
to a sorted list of readable sources, each with its format and the name stored as source_file."""

from __future__ import annotations

import glob
import gzip
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from workbench.ingest.globs import glob_regex, has_glob, literal_prefix

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl"}


class SourceError(ValueError):
    """A PATH that names nothing ingestible; the message says what was looked for."""


class SourceGone(Exception):
    """A listed file or object that was gone by the time it was downloaded."""


@dataclass(frozen=True)
class Source:
    name: str  # stored as source_file: absolute path or s3:// URI
    fmt: str  # csv | jsonl
    compressed: bool
    size: int | None  # bytes as stored (compressed size for .gz), for the progress bar
    open_raw: Callable[[], io.RawIOBase]
    # What the store says about the content without reading it (S3 ETag, Drive md5Checksum or
    # a Sheet's version): equal to the ledger's, the object is unchanged and not downloaded.
    version: str | None = None
    origin: str | None = None  # raw.*.source unless --source says otherwise (default: fmt)
    title: str | None = None  # what a person calls it, when source_file is an id (Drive)

    def open(self, on_bytes: Callable[[int], None] | None = None) -> io.BufferedIOBase:
        """A buffered, decompressed binary stream; `on_bytes` hears every stored byte read."""
        raw = self.open_raw()
        if on_bytes is not None:
            raw = _Counting(raw, on_bytes)
        buffered = io.BufferedReader(raw, buffer_size=1 << 20)
        return gzip.GzipFile(fileobj=buffered) if self.compressed else buffered


def format_of(name: str) -> tuple[str, bool] | None:
    """(format, compressed) from the file name, or None when the extension is not supported."""
    lower = name.lower()
    compressed = lower.endswith(".gz")
    if compressed:
        lower = lower[:-3]
    fmt = FORMATS.get(os.path.splitext(lower)[1])
    return (fmt, compressed) if fmt else None


def resolve(
    paths: Iterable[str],
    entity: str,
    s3_client: Callable[[], Any],
    drive_client: Callable[[], Any] | None = None,
) -> list[Source]:
    """Every source PATHs name, each once, in order; `drive_client` is asked for a
    gdrive.DriveClient only when a gdrive:// path comes up (and `s3_client` for s3://)."""
    sources: list[Source] = []
    seen: set[str] = set()
    for path in paths:
        if path.startswith("s3://"):
            found = _s3_sources(path, entity, s3_client())
        elif path.startswith("gdrive://") and drive_client is not None:
            from workbench.ingest.gdrive import drive_sources

            found = drive_sources(path, drive_client())
        else:
            found = _local_sources(path, entity)
        for source in found:
            if source.name not in seen:
                seen.add(source.name)
                sources.append(source)
    return sources


def _local_sources(path: str, entity: str) -> list[Source]:
    if has_glob(path):
        matches = sorted(p for p in glob.glob(path, recursive=True) if os.path.isfile(p))
        supported = [p for p in matches if format_of(p)]
        if not supported:
            raise SourceError(f"no .csv/.jsonl/.json/.ndjson[.gz] file matches {path}")
        return [_local(p) for p in supported]
    if os.path.isdir(path):
        names = sorted(
            n
            for n in os.listdir(path)
            if n.startswith(entity) and format_of(n) and os.path.isfile(os.path.join(path, n))
        )
        if not names:
            raise SourceError(
                f"no {entity}*.csv/.jsonl/.json/.ndjson[.gz] file in directory {path}; "
                f"pass a glob such as {os.path.join(path, '*.csv')} to load other names"
            )
        return [_local(os.path.join(path, n)) for n in names]
    if os.path.isfile(path):
        if not format_of(path):
            raise SourceError(
                f"{path}: unsupported extension (use .csv, .jsonl, .json, .ndjson, optionally .gz)"
            )
        return [_local(path)]
    raise SourceError(f"no such file or directory: {path}")


def _local(path: str) -> Source:
    absolute = os.path.abspath(path)
    fmt, compressed = format_of(absolute) or ("", False)
    return Source(
        name=absolute,
        fmt=fmt,
        compressed=compressed,
        size=os.path.getsize(absolute),
        open_raw=lambda: open(absolute, "rb", buffering=0),
    )


def _s3_sources(uri: str, entity: str, client: Any) -> list[Source]:
    """A key, a folder prefix (`…/`: its <entity>* files), a name prefix, or a glob
    (`s3://bucket/drops/*/transactions-*.csv`: listed by its literal prefix, matched key by key).
    Each source carries the object's ETag, so an unchanged object is never downloaded."""
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise SourceError(f"{uri}: expected s3://bucket/key-or-prefix")
    if has_glob(key):
        pattern = glob_regex(key)
        found = [
            _s3(client, bucket, item)
            for item in _listing(client, bucket, literal_prefix(key))
            if pattern.match(item["Key"]) and format_of(item["Key"])
        ]
        if not found:
            raise SourceError(f"no .csv/.jsonl/.json/.ndjson[.gz] object matches {uri}")
        return sorted(found, key=lambda s: s.name)
    if key and not key.endswith("/"):
        head = _head(client, bucket, key)
        if head is not None:
            if not format_of(key):
                raise SourceError(f"{uri}: unsupported extension")
            return [_s3(client, bucket, head)]
    folder = not key or key.endswith("/")
    found = []
    for item in _listing(client, bucket, key):
        name = item["Key"]
        base = name.rsplit("/", 1)[-1]
        if format_of(name) and (not folder or base.startswith(entity)):
            found.append(_s3(client, bucket, item))
    if not found:
        wanted = f"{entity}* files" if folder else "files"
        raise SourceError(f"no .csv/.jsonl/.json/.ndjson[.gz] {wanted} under {uri}")
    return sorted(found, key=lambda s: s.name)


def _listing(client: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        yield from page.get("Contents", [])


def _head(client: Any, bucket: str, key: str) -> dict[str, Any] | None:
    """The object as a listing entry (Key, Size, ETag), or None when there is no such key."""
    from botocore.exceptions import ClientError

    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return {"Key": key, "Size": head["ContentLength"], "ETag": head.get("ETag")}


def _s3(client: Any, bucket: str, item: dict[str, Any]) -> Source:
    key: str = item["Key"]
    fmt, compressed = format_of(key) or ("", False)

    def open_raw() -> io.RawIOBase:
        return StreamingRaw(client.get_object(Bucket=bucket, Key=key)["Body"])

    etag = item.get("ETag")
    return Source(
        f"s3://{bucket}/{key}",
        fmt,
        compressed,
        item["Size"],
        open_raw,
        version=f"etag:{etag}" if etag else None,
    )


class StreamingRaw(io.RawIOBase):
    """botocore's StreamingBody as a raw stream, so it can be buffered and decompressed."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data: bytes = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


class _Counting(io.RawIOBase):
    def __init__(self, inner: io.RawIOBase, on_bytes: Callable[[int], None]) -> None:
        self._inner = inner
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._inner.readinto(buffer) or 0
        if count:
            self._on_bytes(count)
        return count

    def close(self) -> None:
        self._inner.close()
        super().close()
