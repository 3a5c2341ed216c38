"""`workbench ingest s3://…` against moto in server mode behind a request-recording WSGI layer:
globs, and an unchanged object (same key, same ETag) skipped without a GetObject."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from tests.dbt_support import connect
from tests.moto_state import reset_moto
from workbench import cli
from workbench.contract import ExitCode

pytestmark = pytest.mark.integration


@dataclass
class RecordingS3:
    """moto's S3 over HTTP on loopback; `requests` holds (method, path, query) as received."""

    url: str
    requests: list[tuple[str, str, str]] = field(default_factory=list)

    def gets_of_objects(self) -> list[str]:
        """Paths of GetObject calls: GET on /bucket/key (a listing is GET /bucket?list-type=2)."""
        return [
            path
            for method, path, query in self.requests
            if method == "GET" and path.count("/") >= 2 and "list-type" not in query
        ]


@pytest.fixture()
def recording_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingS3]:
    app = DomainDispatcherApplication(create_backend_app)
    server_box: dict[str, Any] = {}

    def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        server_box["s3"].requests.append(
            (environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", ""))
        )
        return app(environ, start_response)  # type: ignore[no-any-return]

    server = make_server(
        "127.0.0.1", 0, recording, threaded=True, request_handler=MotoRequestHandler
    )
    s3 = RecordingS3(f"http://127.0.0.1:{server.server_port}")
    server_box["s3"] = s3
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    reset_moto(s3.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    # A custom endpoint, as for DigitalOcean Spaces or MinIO; path-style like MinIO wants.
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.url)
    monkeypatch.setenv("WORKBENCH_S3_ADDRESSING_STYLE", "path")
    try:
        yield s3
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture()
def db(pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    return pg_env


def _rows(env: dict[str, str], query: str) -> list[tuple[Any, ...]]:
    with connect(env) as conn:
        return conn.execute(query.encode()).fetchall()


def _line(n: int) -> bytes:
    return json.dumps({"transaction_id": f"T{n}", "amount": "1.00"}).encode() + b"\n"


def _client(s3: RecordingS3) -> Any:
    client = boto3.client("s3", endpoint_url=s3.url)
    client.create_bucket(Bucket="landing")
    return client


def test_a_glob_lands_the_matching_objects_only(db: dict[str, str], recording_s3: Any) -> None:
    client = _client(recording_s3)
    put = client.put_object
    put(Bucket="landing", Key="drops/2024-06-01/store-1.csv", Body=b"transaction_id\nA1\nA2\n")
    put(Bucket="landing", Key="drops/2024-06-02/store-1.csv", Body=b"transaction_id\nB1\n")
    put(Bucket="landing", Key="drops/2024-06-02/store-2.jsonl", Body=_line(9))
    put(Bucket="landing", Key="drops/2024-06-02/deep/store-3.csv", Body=b"transaction_id\nC\n")
    put(Bucket="landing", Key="drops/2024-06-02/notes.txt", Body=b"not data")
    put(Bucket="landing", Key="archive/2024-06-02/store-1.csv", Body=b"transaction_id\nZ\n")

    uri = "s3://landing/drops/*/store-?.csv"
    assert cli.main(["ingest", uri, "--entity", "transactions"]) == ExitCode.SUCCESS
    landed = _rows(
        db, "select source_file, payload->>'transaction_id' from raw.transactions order by 1, 2"
    )
    assert landed == [
        ("s3://landing/drops/2024-06-01/store-1.csv", "A1"),
        ("s3://landing/drops/2024-06-01/store-1.csv", "A2"),
        ("s3://landing/drops/2024-06-02/store-1.csv", "B1"),
    ]
    # `**` crosses folders; gzip and JSON Lines by extension as everywhere else
    put(Bucket="landing", Key="drops/x/y/z.jsonl.gz", Body=gzip.compress(_line(7)))
    assert cli.main(["ingest", "s3://landing/drops/**.jsonl*", "--entity", "transactions"]) == 0
    files = _rows(db, "select distinct source_file from raw.transactions where source = 'jsonl'")
    assert sorted(files) == [
        ("s3://landing/drops/2024-06-02/store-2.jsonl",),
        ("s3://landing/drops/x/y/z.jsonl.gz",),
    ]
    nothing = ["ingest", "s3://landing/drops/*/*.parquet", "--entity", "transactions"]
    assert cli.main(nothing) == ExitCode.CONFIGURATION_ERROR


def test_an_unchanged_object_is_not_downloaded_again(db: dict[str, str], recording_s3: Any) -> None:
    """Same key and ETag as the ledger recorded: no GetObject at all (the listing's ETag is
    enough). A changed object (new ETag) is downloaded and only its new lines land."""
    client = _client(recording_s3)
    client.put_object(Bucket="landing", Key="in/a.jsonl", Body=_line(1) + _line(2))
    client.put_object(Bucket="landing", Key="in/b.jsonl", Body=_line(3))
    argv = ["ingest", "s3://landing/in/*.jsonl", "--entity", "transactions"]
    assert cli.main(argv) == ExitCode.SUCCESS
    assert sorted(recording_s3.gets_of_objects()) == ["/landing/in/a.jsonl", "/landing/in/b.jsonl"]
    etags = _rows(db, "select source_file, source_version from raw.ingest_files order by 1")
    listed = client.list_objects_v2(Bucket="landing", Prefix="in/")["Contents"]
    assert etags == [(f"s3://landing/{o['Key']}", f"etag:{o['ETag']}") for o in listed]

    recording_s3.requests.clear()
    assert cli.main(argv) == ExitCode.SUCCESS
    assert recording_s3.gets_of_objects() == []
    assert recording_s3.requests, "the listing itself went to the server"

    client.put_object(Bucket="landing", Key="in/b.jsonl", Body=_line(3) + _line(4))
    recording_s3.requests.clear()
    single = ["ingest", "s3://landing/in/b.jsonl", "--entity", "transactions"]
    assert cli.main(single) == ExitCode.SUCCESS
    assert recording_s3.gets_of_objects() == ["/landing/in/b.jsonl"]
    assert _rows(db, "select count(*) from raw.transactions") == [(4,)]

    recording_s3.requests.clear()
    assert cli.main(single) == ExitCode.SUCCESS  # a single key: HeadObject's ETag, no GET
    assert recording_s3.gets_of_objects() == []


def test_garbage_in_a_bucket_fails_again_without_a_download(
    db: dict[str, str], recording_s3: Any
) -> None:
    client = _client(recording_s3)
    client.put_object(Bucket="landing", Key="in/transactions.jsonl", Body=b"\x00\x01\x02\n")
    argv = ["ingest", "s3://landing/in/", "--entity", "transactions"]
    assert cli.main(argv) == ExitCode.FAILURE
    recording_s3.requests.clear()
    assert cli.main(argv) == ExitCode.FAILURE
    assert recording_s3.gets_of_objects() == []
