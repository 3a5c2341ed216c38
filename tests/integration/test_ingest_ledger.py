"""The ingest ledger (raw.ingest_files) against a real PostgreSQL: which path a landing takes,
and that every path keeps "idempotent on file + row + hash"."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_support import connect
from workbench import cli
from workbench.contract import ExitCode
from workbench.ingest import loader

pytestmark = pytest.mark.integration


@pytest.fixture()
def db(pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    return pg_env


def _rows(env: dict[str, str], query: str) -> list[tuple[Any, ...]]:
    with connect(env) as conn:
        return conn.execute(query.encode()).fetchall()


def _line(n: int, amount: str = "10.00") -> bytes:
    record = {"transaction_id": f"T{n:05d}", "amount": amount, "quantity": 1}
    return json.dumps(record).encode() + b"\n"


def _ingest(path: Path) -> int:
    return cli.main(["ingest", str(path), "--entity", "transactions", "--batch-id", path.stem])


def test_payload_sha256_is_the_hash_of_the_line_as_landed(
    db: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "t.jsonl"
    lines = [_line(1), b'  {"transaction_id": "T2" ,"amount":"1"}  \r\n', _line(3)]
    path.write_bytes(b"".join(lines))
    assert _ingest(path) == 0
    landed = _rows(db, "select source_row, payload_sha256 from raw.transactions order by 1")
    assert landed == [
        (i + 1, hashlib.sha256(line.rstrip(b"\r\n")).hexdigest()) for i, line in enumerate(lines)
    ]
    ledger = _rows(
        db,
        "select entity, source_file, file_sha256, records, errors, batch_id from raw.ingest_files",
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert ledger == [("transactions", str(path), digest, 3, 0, "t")]


def _paths_taken(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The `path` of every `ingest.file` event logged since the last call."""
    events = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    return [event["path"] for event in events if event.get("event") == "ingest.file"]


def test_a_changed_file_under_a_known_name_lands_only_its_new_lines(
    db: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "drop.jsonl"
    path.write_bytes(_line(1) + _line(2) + b"{broken\n" + _line(4))
    assert _ingest(path) == 0
    assert _paths_taken(capsys) == ["new"]
    # the producer re-sends the file: line 2 corrected, line 3 fixed, two lines appended
    path.write_bytes(_line(1) + _line(2, "12.00") + _line(3) + _line(4) + _line(5) + b"[1]\n")
    assert _ingest(path) == 0
    assert _paths_taken(capsys) == ["changed"]
    landed = _rows(
        db,
        "select source_row, payload->>'amount', batch_id from raw.transactions order by raw_id",
    )
    assert landed == [
        (1, "10.00", "drop"),
        (2, "10.00", "drop"),
        (4, "10.00", "drop"),
        (2, "12.00", "drop"),  # a new version of line 2: the old one stays, nothing is lost
        (3, "10.00", "drop"),
        (5, "10.00", "drop"),
    ]
    errors = _rows(db, "select source_row, reason from raw.ingest_errors order by 1")
    assert [(row, reason.split(":")[0]) for row, reason in errors] == [
        (3, "invalid JSON"),
        (6, "JSON array, not an object"),
    ]
    ledger = _rows(db, "select file_sha256, records, errors from raw.ingest_files")
    assert ledger == [(hashlib.sha256(path.read_bytes()).hexdigest(), 5, 1)]
    # the same bytes a third time: the ledger recognises them, nothing is read into raw
    assert _ingest(path) == 0
    assert _paths_taken(capsys) == ["unchanged"]
    assert len(_rows(db, "select 1 from raw.transactions")) == 6


def test_files_landed_before_the_ledger_existed_are_not_landed_twice(
    db: dict[str, str], tmp_path: Path
) -> None:
    """A database from before the ledger: raw has rows (hashed by PostgreSQL over the jsonb
    text) but no raw.ingest_files. The first landing backfills the ledger by file name, so a
    re-sent file is compared record by record and adds only what is really new."""
    path = tmp_path / "legacy.jsonl"
    path.write_bytes(_line(1) + _line(2))
    with connect(db) as conn:
        conn.execute(
            "create schema raw;"
            " create table raw.transactions (raw_id bigint generated always as identity"
            " primary key, payload jsonb not null, source text not null, source_file text not"
            " null, source_row bigint not null, batch_id text not null, payload_sha256 text not"
            " null, ingested_at timestamptz not null default now(),"
            " unique (source_file, source_row, payload_sha256))"
        )
        for row, line in enumerate(path.read_bytes().splitlines(), start=1):
            conn.execute(
                "insert into raw.transactions (payload, source, source_file, source_row,"
                " batch_id, payload_sha256) values (%s::jsonb, 'jsonl', %s, %s, 'before',"
                " encode(sha256(convert_to(%s::jsonb::text, 'UTF8')), 'hex'))",
                (line.decode(), str(path), row, line.decode()),
            )
    path.write_bytes(_line(1) + _line(2) + _line(3))
    assert _ingest(path) == 0
    landed = _rows(db, "select source_row, batch_id from raw.transactions order by raw_id")
    assert landed == [(1, "before"), (2, "before"), (3, "legacy")]
    ledger = _rows(db, "select records, file_sha256 from raw.ingest_files")
    assert ledger == [(3, hashlib.sha256(path.read_bytes()).hexdigest())]


def test_error_lines_beyond_the_memory_spool_all_land(
    db: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "_SPOOL_IN_MEMORY_BYTES", 512)
    path = tmp_path / "garbage.jsonl"
    bad = [f"not json {n} ".encode() * 20 + b"\n" for n in range(300)]
    path.write_bytes(b"".join(bad[:150]) + _line(151) + b"".join(bad[150:]))
    assert _ingest(path) == ExitCode.FAILURE  # garbage (issue 18), every line kept all the same
    errors = _rows(db, "select source_row, raw_text from raw.ingest_errors order by 1")
    expected_rows = [*range(1, 151), *range(152, 302)]
    assert [row for row, _ in errors] == expected_rows
    assert [text.encode() + b"\n" for _, text in errors] == bad
    assert _rows(db, "select source_row from raw.transactions") == [(151,)]


def test_deleting_a_files_rows_and_its_ledger_row_lands_it_again(
    db: dict[str, str], tmp_path: Path
) -> None:
    """The README's troubleshooting recipe: the ledger alone decides that identical bytes were
    landed, so re-landing a file whose rows were deleted needs its ledger row deleted too."""
    path = tmp_path / "reload.jsonl"
    path.write_bytes(_line(1) + _line(2))
    assert _ingest(path) == 0
    with connect(db) as conn:
        conn.execute("delete from raw.transactions where source_file = %s", (str(path),))
    assert _ingest(path) == 0
    assert _rows(db, "select count(*) from raw.transactions") == [(0,)]
    with connect(db) as conn:
        conn.execute(
            "delete from raw.ingest_files where entity = 'transactions' and source_file = %s",
            (str(path),),
        )
    assert _ingest(path) == 0
    assert _rows(db, "select source_row from raw.transactions order by 1") == [(1,), (2,)]


def test_the_same_bytes_under_another_path_are_another_file(
    db: dict[str, str], tmp_path: Path
) -> None:
    """What the README says the ledger keys on: a file is its path plus the hash of its bytes.
    A copy under another name lands again, each record with its own source_file (silver keeps
    one version per transaction_id); the same path with the same bytes is skipped."""
    first, copy = tmp_path / "drop-1.jsonl", tmp_path / "drop-1-resent.jsonl"
    first.write_bytes(_line(1) + _line(2))
    copy.write_bytes(first.read_bytes())
    assert _ingest(first) == 0
    assert _ingest(first) == 0
    assert _ingest(copy) == 0
    assert _rows(
        db, "select source_file, count(*) from raw.transactions group by 1 order by 1"
    ) == [(str(copy), 2), (str(first), 2)]
    ledger = _rows(db, "select source_file, file_sha256 from raw.ingest_files order by 1")
    assert [name for name, _ in ledger] == [str(copy), str(first)]
    assert ledger[0][1] == ledger[1][1]
