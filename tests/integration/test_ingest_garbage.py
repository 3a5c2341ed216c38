"""Garbage never ingests as success (issue 18), against a real PostgreSQL: a file with no
parseable record, an empty file, or one whose unparseable share exceeds
WORKBENCH_INGEST_MAX_ERROR_SHARE exits 1 with its lines in raw.ingest_errors, and the same
bytes again fail again instead of reporting `unchanged`."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_support import connect
from workbench import cli
from workbench.contract import (
    INGEST_ERROR_TEXT_MAX_BYTES,
    INGEST_MAX_ERROR_SHARE_ENV,
    ExitCode,
)

pytestmark = pytest.mark.integration

PNG_HEAD = b"\x89PNG\x1a\x00\x00\x00\rIHDR"


@pytest.fixture()
def db(pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv(INGEST_MAX_ERROR_SHARE_ENV, raising=False)
    return pg_env


def _rows(env: dict[str, str], query: str, *params: object) -> list[tuple[Any, ...]]:
    with connect(env) as conn:
        return conn.execute(query.encode(), params).fetchall()


def _ingest(path: Path, entity: str = "transactions") -> int:
    return cli.main(["ingest", str(path), "--entity", entity])


def _events(capsys: pytest.CaptureFixture[str], name: str) -> list[dict[str, Any]]:
    lines = capsys.readouterr().err.splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    return [event for event in events if event.get("event") == name]


def _good(n: int) -> bytes:
    return json.dumps({"transaction_id": f"T{n}", "amount": "1.00"}).encode() + b"\n"


def test_random_bytes_fail_twice_and_keep_every_line(
    db: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    noise = random.Random(18).randbytes(200_000)  # noqa: S311 - reproducible noise
    path = tmp_path / "transactions-noise.jsonl"
    path.write_bytes(noise)
    assert _ingest(path) == ExitCode.FAILURE
    lines = [line for line in noise.split(b"\n") if line.rstrip(b"\r").strip()]
    errors = _rows(db, "select count(*), count(distinct reason) from raw.ingest_errors")[0]
    assert errors[0] == len(lines) and errors[1] >= 1
    assert _rows(db, "select count(*) from raw.transactions") == [(0,)]
    failure = _rows(db, "select failure, errors from raw.ingest_files")
    assert failure == [(f"no record could be parsed ({len(lines)} unparseable lines)", len(lines))]
    capsys.readouterr()

    assert _ingest(path) == ExitCode.FAILURE  # the ledger remembers: not `unchanged`, exit 0
    assert [e["path"] for e in _events(capsys, "ingest.file")] == ["unchanged"]
    assert _rows(db, "select count(*) from raw.ingest_errors")[0][0] == len(lines)


def test_the_same_garbage_again_is_reported_failed_by_the_log(
    db: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b"not json\n{also not\n")
    assert _ingest(path) == ExitCode.FAILURE
    capsys.readouterr()
    assert _ingest(path) == ExitCode.FAILURE
    err = capsys.readouterr().err
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    files = [e for e in events if e["event"] == "ingest.file"]
    failed = [e for e in events if e["event"] == "ingest.file_failed"]
    assert [e["path"] for e in files] == ["unchanged"]
    assert [e["reason"] for e in failed] == ["no record could be parsed (2 unparseable lines)"]
    assert [e["level"] for e in events if e["event"] == "ingest.done"] == ["error"]


def test_a_binary_file_named_csv_keeps_its_lines_with_the_header_reason(
    db: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "transactions.csv"
    noise = random.Random(7).randbytes(3000).replace(b"\n", b"")  # noqa: S311
    body = PNG_HEAD + b"\n" + noise + b"\nIEND\n"
    path.write_bytes(body)
    assert _ingest(path) == ExitCode.FAILURE
    errors = _rows(db, "select source_row, reason, raw_text from raw.ingest_errors order by 1")
    assert [row[0] for row in errors] == [1, 2, 3]
    assert {row[1] for row in errors} == {"file not loaded: CSV header is not valid UTF-8 text"}
    # undecodable bytes as \\xNN, NUL as the four characters \\x00, a lone \r kept
    assert errors[0][2] == "\\x89PNG\x1a\\x00\\x00\\x00\rIHDR"
    assert errors[2][2] == "IEND"
    assert _rows(db, "select failure from raw.ingest_files") == [
        ("CSV header is not valid UTF-8 text",)
    ]
    assert _ingest(path) == ExitCode.FAILURE
    assert len(_rows(db, "select 1 from raw.ingest_errors")) == 3


def test_empty_files_and_header_only_csv_are_failures(db: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    header_only = tmp_path / "header.csv"
    header_only.write_text("transaction_id,amount\n")
    blank = tmp_path / "blank.jsonl.gz"
    blank.write_bytes(gzip.compress(b"\n\n  \n"))
    for path in (empty, header_only, blank):
        assert _ingest(path) == ExitCode.FAILURE, path.name
        assert _ingest(path) == ExitCode.FAILURE, path.name
    assert sorted(_rows(db, "select source_file, failure from raw.ingest_files")) == sorted(
        [
            (str(empty), "empty: no line to read"),
            (str(header_only), "empty: no line to read"),
            (str(blank), "empty: no line to read"),
        ]
    )


def test_the_error_share_threshold_and_its_variable(
    db: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the default 0.5, half the lines broken still lands; more than half is a failure whose
    parseable records are landed all the same (nothing is lost), and a later good file in the
    same call still lands."""
    half = tmp_path / "half.jsonl"
    half.write_bytes(_good(1) + b"x\n" + _good(2) + b"y\n")
    worse = tmp_path / "worse.jsonl"
    worse.write_bytes(_good(3) + b"x\n" + b"y\n")
    later = tmp_path / "later.jsonl"
    later.write_bytes(_good(4))
    assert _ingest(half) == ExitCode.SUCCESS
    code = cli.main(["ingest", str(worse), str(later), "--entity", "transactions"])
    assert code == ExitCode.FAILURE
    landed = _rows(db, "select payload->>'transaction_id' from raw.transactions order by 1")
    assert landed == [("T1",), ("T2",), ("T3",), ("T4",)]
    failures = dict(_rows(db, "select source_file, failure from raw.ingest_files"))
    assert failures[str(half)] is None and failures[str(later)] is None
    assert failures[str(worse)] == (
        f"2 of 3 lines unparseable (67%), more than {INGEST_MAX_ERROR_SHARE_ENV}=0.5"
    )

    monkeypatch.setenv(INGEST_MAX_ERROR_SHARE_ENV, "0.25")
    stricter = tmp_path / "stricter.jsonl"
    stricter.write_bytes(_good(5) + _good(6) + b"z\n")
    assert _ingest(stricter) == ExitCode.FAILURE
    monkeypatch.setenv(INGEST_MAX_ERROR_SHARE_ENV, "half")
    assert _ingest(stricter) == ExitCode.CONFIGURATION_ERROR


def test_a_csv_without_the_entity_key_column_is_a_data_failure(
    db: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "products.csv"
    path.write_text("name,price\nKopiko,12\n")
    assert _ingest(path, "products") == ExitCode.FAILURE
    assert _rows(db, "select source_row, reason from raw.ingest_errors order by 1") == [
        (1, "file not loaded: CSV header has no product_id column"),
        (2, "file not loaded: CSV header has no product_id column"),
    ]
    assert _rows(db, "select count(*) from raw.products") == [(0,)]


def test_an_error_line_over_64_kib_keeps_its_head_length_and_hash(
    db: dict[str, str], tmp_path: Path
) -> None:
    huge = b'{"transaction_id": "T9", "note": "' + "é".encode() * 200_000  # never closed
    short = b'{"broken": \n'
    path = tmp_path / "t.jsonl"
    path.write_bytes(_good(1) + _good(2) + huge + b"\n" + short)
    assert _ingest(path) == ExitCode.SUCCESS
    rows = dict(
        (row[0], row[1:])
        for row in _rows(db, "select source_row, raw_text, reason from raw.ingest_errors")
    )
    text, reason = rows[3]
    stored = text.encode()
    assert len(stored) <= INGEST_ERROR_TEXT_MAX_BYTES
    assert len(stored) >= INGEST_ERROR_TEXT_MAX_BYTES - 1  # cut on a character boundary
    assert huge.startswith(stored)
    assert reason.endswith(
        f"; line of {len(huge)} bytes (sha256 {hashlib.sha256(huge).hexdigest()}),"
        f" first {len(stored)} bytes kept"
    )
    assert reason.startswith("invalid JSON")
    assert rows[4] == ('{"broken": ', rows[4][1])  # a short line stays byte-identical
