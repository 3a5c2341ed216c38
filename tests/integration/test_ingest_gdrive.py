"""`workbench ingest gdrive://<folder>[/<glob>]` against a local Drive v3 server and a local
token endpoint that the service-account flow really calls (tests/drive_server.py), landing in a
real PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_support import connect
from tests.drive_server import (
    FOLDER_MIME,
    SHEET_MIME,
    DriveFile,
    FakeDrive,
    Fault,
    drive_error,
    rate_limited,
    serve_drive,
)
from workbench import cli
from workbench.contract import GDRIVE_API_URL_ENV, GOOGLE_CREDENTIALS_ENV, ExitCode
from workbench.ingest import gdrive

pytestmark = pytest.mark.integration

FOLDER = "1FolderScoutDrops"
CSV_MIME = "text/csv"


@pytest.fixture()
def drive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDrive]:
    for server in serve_drive(tmp_path):
        monkeypatch.setenv(GOOGLE_CREDENTIALS_ENV, str(server.key_file))
        monkeypatch.setenv(GDRIVE_API_URL_ENV, server.url)
        yield server


@pytest.fixture()
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff waits the client asks for, recorded instead of slept."""
    asked: list[float] = []
    monkeypatch.setattr(gdrive, "pause", asked.append)
    return asked


@pytest.fixture()
def db(pg_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    return pg_env


def _rows(env: dict[str, str], query: str) -> list[tuple[Any, ...]]:
    with connect(env) as conn:
        return conn.execute(query.encode()).fetchall()


def _ingest(uri: str, entity: str = "transactions") -> int:
    return cli.main(["ingest", uri, "--entity", entity])


def _events(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    lines = capsys.readouterr().err.splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def _folder(drive: FakeDrive) -> dict[str, DriveFile]:
    items = [
        DriveFile(
            "csv1", "store-1 2026-06-01.csv", CSV_MIME, b"transaction_id,amount\nA1,1\nA2,2\n"
        ),
        DriveFile("jsonl2", "store-2.jsonl", "application/x-ndjson", b'{"transaction_id": "B1"}\n'),
        DriveFile("sheet3", "June sales", SHEET_MIME, b"transaction_id,amount\r\nS1,3\r\n"),
        DriveFile("sub4", "archive", FOLDER_MIME),
        DriveFile("pdf5", "manual.pdf", "application/pdf", b"%PDF-1.7"),
        DriveFile("csv6", "in-archive.csv", CSV_MIME, b"transaction_id\nZ\n"),
    ]
    for item in items:
        item.parents = ("sub4",) if item.id == "csv6" else (FOLDER,)
        drive.add(item)
    return {item.id: item for item in items}


def test_a_folder_lands_its_files_and_sheets_paging_and_skipping_sub_folders(
    db: dict[str, str], drive: FakeDrive
) -> None:
    """files.list (developers.google.com/drive/api/reference/rest/v3/files/list): q
    `'<folder>' in parents and trashed = false`, every page followed by nextPageToken; a
    sub-folder (mimeType application/vnd.google-apps.folder) is listed as a child but its
    files are not the folder's; files.get?alt=media (…/v3/files/get) downloads CSV and JSON
    Lines; a Google Sheet cannot be downloaded (403 fileNotDownloadable) and is exported with
    files.export?mimeType=text/csv (…/v3/files/export). The token comes from the key file's
    token_uri by a JWT bearer grant signed with the service account's key
    (developers.google.com/identity/protocols/oauth2/service-account#httprest)."""
    _folder(drive)
    assert _ingest(f"gdrive://{FOLDER}") == ExitCode.SUCCESS

    landed = _rows(
        db,
        "select source, source_file, payload->>'transaction_id' from raw.transactions"
        " order by 2, source_row",
    )
    assert landed == [
        ("gdrive", "gdrive://csv1", "A1"),
        ("gdrive", "gdrive://csv1", "A2"),
        ("gdrive", "gdrive://jsonl2", "B1"),
        ("gdrive", "gdrive://sheet3", "S1"),
    ]
    listings = drive.listings()
    assert [q.get("pageToken") for q in listings] == [None, "2", "4"]
    assert {q["q"] for q in listings} == {f"'{FOLDER}' in parents and trashed = false"}
    assert sorted(drive.downloads()) == [
        "/drive/v3/files/csv1",
        "/drive/v3/files/jsonl2",
        "/drive/v3/files/sheet3/export",
    ]
    assert [c["scope"] for c in drive.token_claims] == [
        "https://www.googleapis.com/auth/drive.readonly"
    ]
    versions = _rows(db, "select source_file, source_version from raw.ingest_files order by 1")
    md5 = {
        i: f["md5Checksum"]
        for i, f in ((f.id, f.resource()) for f in drive.files.values())
        if "md5Checksum" in f
    }
    assert versions == [
        ("gdrive://csv1", f"md5:{md5['csv1']}"),
        ("gdrive://jsonl2", f"md5:{md5['jsonl2']}"),
        ("gdrive://sheet3", "version:1"),
    ]


def test_a_rerun_downloads_only_what_changed(db: dict[str, str], drive: FakeDrive) -> None:
    """The ledger keys a Drive file on its id and md5Checksum (a Sheet has none: its `version`,
    which Drive increases on every change — files resource, field `version`)."""
    files = _folder(drive)
    assert _ingest(f"gdrive://{FOLDER}") == ExitCode.SUCCESS
    drive.requests.clear()
    assert _ingest(f"gdrive://{FOLDER}") == ExitCode.SUCCESS
    assert drive.downloads() == []

    files["csv1"].content += b"A3,3\n"
    files["sheet3"].content += b"S2,4\r\n"
    files["sheet3"].version = 2
    drive.requests.clear()
    assert _ingest(f"gdrive://{FOLDER}") == ExitCode.SUCCESS
    assert sorted(drive.downloads()) == ["/drive/v3/files/csv1", "/drive/v3/files/sheet3/export"]
    ids = _rows(db, "select payload->>'transaction_id' from raw.transactions order by 1")
    assert ids == [("A1",), ("A2",), ("A3",), ("B1",), ("S1",), ("S2",)]


def test_a_glob_selects_files_by_name(db: dict[str, str], drive: FakeDrive) -> None:
    _folder(drive)
    assert _ingest(f"gdrive://{FOLDER}/store-*") == ExitCode.SUCCESS
    files = _rows(db, "select distinct source_file from raw.transactions order by 1")
    assert files == [("gdrive://csv1",), ("gdrive://jsonl2",)]
    assert _ingest(f"gdrive://{FOLDER}/*.parquet") == ExitCode.CONFIGURATION_ERROR


def test_rate_limits_and_server_errors_are_retried_with_backoff(
    db: dict[str, str], drive: FakeDrive, waits: list[float]
) -> None:
    """developers.google.com/drive/api/guides/handle-errors: 403 rateLimitExceeded, 429 Too many
    requests and 5xx are retried with exponential backoff; a Retry-After header is honoured."""
    _folder(drive)
    drive.faults["/drive/v3/files"] = [rate_limited()]
    drive.faults["/drive/v3/files/csv1"] = [
        Fault(429, drive_error(429, "rateLimitExceeded", "Too Many Requests"), {"Retry-After": "7"})
    ]
    drive.faults["/drive/v3/files/sheet3/export"] = [
        Fault(503, drive_error(503, "backendError", "Backend Error")),
        Fault(500, drive_error(500, "internalError", "Internal Error")),
    ]
    assert _ingest(f"gdrive://{FOLDER}") == ExitCode.SUCCESS
    assert len(_rows(db, "select 1 from raw.transactions")) == 4
    # the listing's and the export's first retry wait 2^0 s, the export's second 2^1 s (each
    # plus up to 1 s of jitter); the 429 waits exactly its Retry-After
    first, first_again, second, retry_after = sorted(waits)
    assert 1 <= first < 2 and 1 <= first_again < 2 and 2 <= second < 3
    assert retry_after == 7


def test_retries_are_bounded_and_end_as_a_transient_failure(
    db: dict[str, str], drive: FakeDrive, waits: list[float]
) -> None:
    _folder(drive)
    drive.faults["/drive/v3/files"] = [
        Fault(502, drive_error(502, "badGateway", "Bad Gateway"))
    ] * (gdrive.DRIVE_MAX_ATTEMPTS + 1)
    assert _ingest(f"gdrive://{FOLDER}") == ExitCode.RUNTIME_ERROR
    assert len(drive.listings()) == gdrive.DRIVE_MAX_ATTEMPTS
    assert len(waits) == gdrive.DRIVE_MAX_ATTEMPTS - 1
    assert max(waits) <= 64


def test_a_file_deleted_after_the_listing_is_reported_and_skipped(
    db: dict[str, str], drive: FakeDrive, capsys: pytest.CaptureFixture[str]
) -> None:
    """files.get on a file that no longer exists answers 404 notFound (handle-errors: "File not
    found"); the other files still land and nothing is recorded for the missing one."""
    _folder(drive)
    drive.delete_after_listing.add("jsonl2")
    capsys.readouterr()
    assert _ingest(f"gdrive://{FOLDER}") == ExitCode.SUCCESS
    gone = [e for e in _events(capsys) if e["event"] == "ingest.file_gone"]
    assert [(e["source_file"], e["title"]) for e in gone] == [("gdrive://jsonl2", "store-2.jsonl")]
    assert gone[0]["level"] == "warning"
    files = _rows(db, "select source_file from raw.ingest_files order by 1")
    assert files == [("gdrive://csv1",), ("gdrive://sheet3",)]


def test_a_sheet_without_the_required_header_is_a_data_failure(
    db: dict[str, str], drive: FakeDrive
) -> None:
    """A Sheet exported as CSV (files.export text/csv: the first sheet) whose first row lacks
    transaction_id: exit 1, its rows kept in raw.ingest_errors with the reason, and the same
    version again fails again."""
    sheet = drive.add(
        DriveFile("sheet9", "Notes", SHEET_MIME, b"Store,Remarks\r\nS-01,closed early\r\n")
    )
    sheet.parents = (FOLDER,)
    assert _ingest(f"gdrive://{FOLDER}") == ExitCode.FAILURE
    reason = "file not loaded: CSV header has no transaction_id column"
    assert _rows(
        db, "select source_file, source_row, reason from raw.ingest_errors order by 2"
    ) == [
        ("gdrive://sheet9", 1, reason),
        ("gdrive://sheet9", 2, reason),
    ]
    drive.requests.clear()
    assert _ingest(f"gdrive://{FOLDER}") == ExitCode.FAILURE
    assert drive.downloads() == []


def test_missing_or_unreadable_credentials_exit_3_naming_the_variable(
    db: dict[str, str],
    drive: FakeDrive,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _folder(drive)
    cases = {
        "": "is not set",
        str(tmp_path / "missing.json"): "cannot read",
        str(tmp_path / "broken.json"): "not a service-account JSON key file",
    }
    (tmp_path / "broken.json").write_text('{"type": "service_account"}')
    for value, words in cases.items():
        monkeypatch.setenv(GOOGLE_CREDENTIALS_ENV, value)
        capsys.readouterr()
        assert _ingest(f"gdrive://{FOLDER}") == ExitCode.CONFIGURATION_ERROR
        failed = [e for e in _events(capsys) if e["event"] == "ingest.failed"]
        assert GOOGLE_CREDENTIALS_ENV in failed[0]["error"] and words in failed[0]["error"]
    assert drive.requests == []


def test_a_key_the_token_endpoint_refuses_exits_3(
    db: dict[str, str], drive: FakeDrive, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JWT signed with another key (a rotated or revoked key file) is refused with
    invalid_grant (RFC 6749 §5.2): a person must replace the key file, so no retry."""
    from tests.drive_server import write_key_file

    _folder(drive)
    _, other = write_key_file(tmp_path / "rotated.json", drive.token_uri)
    monkeypatch.setenv(GOOGLE_CREDENTIALS_ENV, str(other))
    assert _ingest(f"gdrive://{FOLDER}") == ExitCode.CONFIGURATION_ERROR
    assert drive.token_claims == []
    assert [m for m, p, _ in drive.requests] == ["POST"]


def test_a_folder_not_shared_with_the_service_account_exits_3(
    db: dict[str, str], drive: FakeDrive, capsys: pytest.CaptureFixture[str]
) -> None:
    drive.faults["/drive/v3/files"] = [
        Fault(404, drive_error(404, "notFound", "File not found: 1Nope."))
    ]
    capsys.readouterr()
    assert _ingest("gdrive://1Nope") == ExitCode.CONFIGURATION_ERROR
    failed = [e for e in _events(capsys) if e["event"] == "ingest.failed"]
    assert "is it shared with ingest@scout-retail.iam.gserviceaccount.com" in failed[0]["error"]
