"""`workbench ingest` against a real PostgreSQL: formats, sources, idempotency, ingest errors."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.moto_state import reset_moto
from tests.pgcluster import free_port
from workbench import cli
from workbench.contract import ExitCode
from workbench.ingest.schema import ensure_raw_schema
from workbench.sample_data.generate import generate
from workbench.sample_data.options import SampleOptions

pytestmark = pytest.mark.integration

SAMPLE = {"transactions": 2500, "products": 60, "stores": 10, "weeks": 20, "seed": 5}


@pytest.fixture()
def db(pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    return pg_env


def _query(env: dict[str, str], query: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        dbname=env["POSTGRES_DB"],
    ) as conn:
        return conn.execute(query, params).fetchall()  # type: ignore[arg-type]


def _count(env: dict[str, str], table: str) -> int:
    return int(_query(env, f"select count(*) from raw.{table}")[0][0])


def _expected(directory: Path) -> dict[str, Any]:
    return dict(json.loads((directory / "expected.json").read_text()))


def test_jsonl_glob_lands_every_record_and_reingest_adds_nothing(
    db: dict[str, str], tmp_path: Path
) -> None:
    generate(SampleOptions(out=tmp_path, chunk_rows=1000, **SAMPLE))
    expected = _expected(tmp_path)
    assert len(list(tmp_path.glob("transactions-*.jsonl"))) >= 3
    pattern = str(tmp_path / "transactions-*.jsonl")
    assert cli.main(["ingest", pattern, "--entity", "transactions", "--batch-id", "b1"]) == 0
    landed = _count(db, "transactions")
    assert landed == expected["transactions_records"] - expected["unparseable_lines"]
    errors = _query(db, "select entity, source, reason, raw_text, batch_id from raw.ingest_errors")
    assert len(errors) == expected["unparseable_lines"]
    assert {e[0] for e in errors} == {"transactions"} and {e[4] for e in errors} == {"b1"}
    reasons = {
        next((k for k in ("invalid JSON", "invalid UTF-8") if e[2].startswith(k)), e[2])
        for e in errors
    }
    assert reasons == {
        "invalid JSON",
        "JSON array, not an object",
        "invalid UTF-8",
        "contains \\u0000 (NUL), which PostgreSQL jsonb cannot store",
    }
    assert all(e[3] for e in errors)  # raw text kept
    # the landing metadata is the contract's
    rows = _query(
        db,
        "select source, source_file, min(source_row), count(*), count(distinct batch_id),"
        " bool_and(payload_sha256 ~ '^[0-9a-f]{64}$'), bool_and(jsonb_typeof(payload) = 'object')"
        " from raw.transactions group by 1, 2 order by 2",
    )
    assert [r[1] for r in rows] == [str(p) for p in sorted(tmp_path.glob("transactions-*.jsonl"))]
    assert all(r[0] == "jsonl" and r[2] == 1 and r[4] == 1 and r[5] and r[6] for r in rows)
    # the same files again: nothing new, the counts say so
    assert cli.main(["ingest", pattern, "--entity", "transactions"]) == 0
    assert _count(db, "transactions") == landed
    assert _count(db, "ingest_errors") == expected["unparseable_lines"]


def test_csv_gz_directory_with_a_declared_source(db: dict[str, str], tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(SampleOptions(out=data, format="csv", chunk_rows=1200, **SAMPLE))
    expected = _expected(data)
    landing = tmp_path / "landing"
    landing.mkdir()
    for path in [*data.glob("transactions-*.csv"), data / "products.csv"]:
        with path.open("rb") as src, gzip.open(landing / f"{path.name}.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
    argv = ["ingest", str(landing), "--entity", "transactions", "--source", "gdrive"]
    assert cli.main(argv) == 0
    assert _count(db, "transactions") == (
        expected["transactions_records"] - expected["unparseable_lines"]
    )
    assert _count(db, "ingest_errors") == expected["unparseable_lines"]
    reasons = {r[0] for r in _query(db, "select reason from raw.ingest_errors")}
    assert reasons == {
        "expected 13 fields, got 6",
        "expected 13 fields, got 15",
        "invalid UTF-8",
        "contains a NUL character, which PostgreSQL cannot store",
    }
    # the directory held only transactions-* files of this entity: products.csv.gz was skipped
    files = {r[0] for r in _query(db, "select distinct source_file from raw.transactions")}
    assert all(Path(f).name.startswith("transactions-") for f in files)
    sources = _query(db, "select distinct source from raw.transactions")
    assert sources == [("gdrive",)]
    # CSV values stay the strings in the file; an empty field stays ""
    payload = _query(db, "select payload from raw.transactions order by raw_id limit 1")[0][0]
    assert all(isinstance(v, str) for v in payload.values())
    assert cli.main(argv) == 0
    assert _count(db, "transactions") == (
        expected["transactions_records"] - expected["unparseable_lines"]
    )


def test_products_file_lands_with_every_version(db: dict[str, str], tmp_path: Path) -> None:
    generate(SampleOptions(out=tmp_path, **SAMPLE))
    expected = _expected(tmp_path)
    assert cli.main(["ingest", str(tmp_path / "products.jsonl"), "--entity", "products"]) == 0
    assert _count(db, "products") == expected["products_records"]
    distinct = _query(db, "select count(distinct payload->>'product_id') from raw.products")
    assert distinct == [(SAMPLE["products"],)]


EDGE_JSONL = (
    b"\xef\xbb\xbf" + b'{"transaction_id": "T1", "amount": "1.00"}\r\n'  # 1: BOM + CRLF
    b"\n"  # 2: blank, skipped
    b'{"transaction_id": "T2", "amount": NaN}\n'  # 3
    b'"just a string"\n'  # 4
    b'{"transaction_id": "T3", "note": "a\\u0000b"}\n'  # 5
    b'{"transaction_id": "T4", "note": "\\ud800"}\n'  # 6
    b'{"transaction_id": "T5", "note": "caf\xe9"}\n'  # 7: latin-1, not UTF-8
    b'{"transaction_id": "T6", "note": "\\u00e9 \\ud83d\\ude00 ok"}\n'  # 8: valid escapes
    b'{"transaction_id": "T7", "big": 1e999999999}\n'  # 9
)


def test_hostile_json_lines_are_kept_as_errors_with_reasons(
    db: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "edge.ndjson"
    path.write_bytes(EDGE_JSONL)
    # 6 of 8 lines broken is garbage (exit 1, issue 18); its records land all the same
    assert cli.main(["ingest", str(path), "--entity", "transactions"]) == ExitCode.FAILURE
    landed = _query(db, "select source_row, payload from raw.transactions order by source_row")
    assert landed == [
        (1, {"transaction_id": "T1", "amount": "1.00"}),
        (8, {"transaction_id": "T6", "note": "é 😀 ok"}),
    ]
    errors = dict(_query(db, "select source_row, reason from raw.ingest_errors"))
    assert errors[3] == "invalid JSON: NaN is not valid JSON"
    assert errors[4] == "JSON string, not an object"
    assert errors[5] == "contains \\u0000 (NUL), which PostgreSQL jsonb cannot store"
    assert errors[6] == "contains an unpaired UTF-16 surrogate escape, which jsonb cannot store"
    assert errors[7].startswith("invalid UTF-8")
    assert errors[9].startswith("invalid JSON: number 1e999999999 is out of range")
    raw7 = _query(db, "select raw_text from raw.ingest_errors where source_row = 7")[0][0]
    assert raw7 == '{"transaction_id": "T5", "note": "caf\\xe9"}'


EDGE_CSV = (
    "transaction_id,note,amount\n"  # 1
    'T1,"a note, with a comma",1.00\n'  # 2
    'T2,"two\nlines",2.00\n'  # 3-4: one record over two lines
    "\n"  # 5: blank
    "T3,too,many,fields\n"  # 6
    "T4,,\n"  # 7: empty values stay ""
    "T5 ,  padded  , 5.00 \n"  # 8: kept exactly, not trimmed
)


def test_csv_records_keep_their_text_and_line_numbers(db: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "edge.csv"
    path.write_bytes(EDGE_CSV.encode() + b"T6,caf\xe9,6.00\n" + b"T7,a\x00b,7.00\n")
    assert cli.main(["ingest", str(path), "--entity", "transactions"]) == 0
    landed = _query(db, "select source_row, payload from raw.transactions order by source_row")
    assert landed == [
        (2, {"transaction_id": "T1", "note": "a note, with a comma", "amount": "1.00"}),
        (3, {"transaction_id": "T2", "note": "two\nlines", "amount": "2.00"}),
        (7, {"transaction_id": "T4", "note": "", "amount": ""}),
        (8, {"transaction_id": "T5 ", "note": "  padded  ", "amount": " 5.00 "}),
    ]
    errors = _query(db, "select source_row, reason, raw_text from raw.ingest_errors order by 1")
    assert errors == [
        (6, "expected 3 fields, got 4", "T3,too,many,fields"),
        (9, "invalid UTF-8", "T6,caf\\xe9,6.00"),
        (10, "contains a NUL character, which PostgreSQL cannot store", "T7,a\\x00b,7.00"),
    ]


def test_a_csv_header_with_repeated_names_is_a_data_failure_that_keeps_its_lines(
    db: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("transaction_id,amount,amount\nT1,1,2\n")
    assert cli.main(["ingest", str(path), "--entity", "transactions"]) == ExitCode.FAILURE
    assert _count(db, "transactions") == 0
    reason = "file not loaded: CSV header repeats column names: amount"
    assert _query(db, "select source_row, reason from raw.ingest_errors order by 1") == [
        (1, reason),
        (2, reason),
    ]


def test_missing_inputs_exit_3(db: dict[str, str], tmp_path: Path) -> None:
    missing = ExitCode.CONFIGURATION_ERROR
    assert cli.main(["ingest", str(tmp_path / "nope.jsonl"), "--entity", "products"]) == missing
    assert cli.main(["ingest", str(tmp_path / "*.csv"), "--entity", "products"]) == missing
    assert cli.main(["ingest", str(tmp_path), "--entity", "products"]) == missing  # no products*
    (tmp_path / "products.txt").write_text("x")
    assert cli.main(["ingest", str(tmp_path / "products.txt"), "--entity", "products"]) == missing


def test_unreachable_database_exits_2_without_leaking_the_password(tmp_path: Path) -> None:
    path = tmp_path / "products.jsonl"
    path.write_text('{"product_id": "P1"}\n')
    secret = "Sup3r-Secret-Pw"  # noqa: S105 - the value the log must not contain
    env = {
        **os.environ,
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(free_port()),
        "POSTGRES_USER": "nobody",
        "POSTGRES_PASSWORD": secret,
        "POSTGRES_DB": "x",
        "POSTGRES_SSLMODE": "disable",
    }
    result = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "ingest", str(path), "--entity", "products"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    output = result.stdout + result.stderr
    assert "cannot connect to PostgreSQL at nobody@127.0.0.1" in output
    assert secret not in output


@pytest.fixture()
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    reset_moto(f"http://127.0.0.1:{port}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    import boto3

    client = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}")
    client.create_bucket(Bucket="landing")
    try:
        yield client
    finally:
        server.stop()


def test_s3_prefix_and_single_object(db: dict[str, str], s3: Any, tmp_path: Path) -> None:
    generate(SampleOptions(out=tmp_path, chunk_rows=1000, **SAMPLE))
    expected = _expected(tmp_path)
    chunks = sorted(tmp_path.glob("transactions-*.jsonl"))
    for path in chunks:
        s3.upload_file(str(path), "landing", f"drops/2024/{path.name}")
    s3.upload_file(str(tmp_path / "products.jsonl"), "landing", "drops/2024/products.jsonl")
    gz = tmp_path / "products.jsonl.gz"
    gz.write_bytes(gzip.compress((tmp_path / "products.jsonl").read_bytes()))
    s3.upload_file(str(gz), "landing", "catalog/products.jsonl.gz")

    assert cli.main(["ingest", "s3://landing/drops/2024/", "--entity", "transactions"]) == 0
    landed = expected["transactions_records"] - expected["unparseable_lines"]
    assert _count(db, "transactions") == landed
    files = [
        r[0] for r in _query(db, "select distinct source_file from raw.transactions order by 1")
    ]
    assert files == [f"s3://landing/drops/2024/{p.name}" for p in chunks]
    assert _count(db, "ingest_errors") == expected["unparseable_lines"]
    assert cli.main(["ingest", "s3://landing/drops/2024/", "--entity", "transactions"]) == 0
    assert _count(db, "transactions") == landed

    uri = "s3://landing/catalog/products.jsonl.gz"
    assert cli.main(["ingest", uri, "--entity", "products"]) == 0
    assert _count(db, "products") == expected["products_records"]
    assert _query(db, "select distinct source_file, source from raw.products") == [(uri, "jsonl")]
    assert cli.main(["ingest", "s3://landing/nothing-here/", "--entity", "products"]) == (
        ExitCode.CONFIGURATION_ERROR
    )
    assert cli.main(["ingest", "s3://no-such-bucket/x.jsonl", "--entity", "products"]) == 2


def test_a_file_loaded_as_the_wrong_entity_lands_with_a_warning(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "products.jsonl"
    path.write_text('{"product_id": "P1", "product_name": "Kopiko"}\n')
    result = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "ingest", str(path), "--entity", "transactions"],
        env={**os.environ, **pg_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    warnings = [
        json.loads(line) for line in result.stderr.splitlines() if "entity_mismatch" in line
    ]
    assert len(warnings) == 1
    assert warnings[0]["level"] == "warning"
    assert "none of the first 1 records has transaction_id" in warnings[0]["message"]
    assert _count(pg_env, "transactions") == 1


def test_ensure_raw_schema_does_not_queue_behind_an_open_landing(pg_env: dict[str, str]) -> None:
    """With the schema in place, a second landing must not wait for a long one to commit
    (`create index if not exists` would take a ShareLock on the table even when it exists)."""
    conninfo = (
        f"host={pg_env['POSTGRES_HOST']} port={pg_env['POSTGRES_PORT']} "
        f"user={pg_env['POSTGRES_USER']} password={pg_env['POSTGRES_PASSWORD']} "
        f"dbname={pg_env['POSTGRES_DB']}"
    )
    with psycopg.connect(conninfo, autocommit=True) as setup:
        ensure_raw_schema(setup)
    with psycopg.connect(conninfo) as long_landing, psycopg.connect(conninfo) as second:
        long_landing.execute(
            "insert into raw.transactions (payload, source, source_file, source_row, batch_id,"
            " payload_sha256) values ('{}', 'jsonl', 'big.jsonl', 1, 'b', 'x')"
        )  # left uncommitted, holding RowExclusiveLock
        second.execute("set lock_timeout = '2s'")
        ensure_raw_schema(second)  # raises LockNotAvailable if it queues behind the insert
        second.commit()
        long_landing.rollback()
