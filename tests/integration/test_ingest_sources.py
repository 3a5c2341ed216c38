"""`workbench ingest --sources FILE`: several sources (local glob, Drive folder, S3-like
failures) pulled in one step against a real PostgreSQL, a local Drive server and a real
Pushgateway; a failing source never stops the others, each is logged and measured, and the step
exits with the most serious outcome."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_support import connect
from tests.drive_server import SHEET_MIME, DriveFile, FakeDrive, Fault, drive_error, serve_drive
from tests.runtime.servers import Pushgateway, start_pushgateway
from workbench import cli
from workbench.contract import GDRIVE_API_URL_ENV, GOOGLE_CREDENTIALS_ENV, ExitCode
from workbench.ingest import gdrive

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pushgateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushgateway]:
    gateway = start_pushgateway(tmp_path_factory.mktemp("pushgateway"))
    try:
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture()
def env(
    pg_env: dict[str, str],
    pushgateway: Pushgateway,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[FakeDrive]:
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PUSHGATEWAY_URL", pushgateway.url)
    monkeypatch.setattr(gdrive, "pause", lambda seconds: None)
    for drive in serve_drive(tmp_path):
        monkeypatch.setenv(GOOGLE_CREDENTIALS_ENV, str(drive.key_file))
        monkeypatch.setenv(GDRIVE_API_URL_ENV, drive.url)
        drive.add(DriveFile("sheet1", "Catalog", SHEET_MIME, b"product_id,name\r\nP1,Kopiko\r\n"))
        drive.files["sheet1"].parents = ("1Catalog",)
        yield drive


def _rows(env: dict[str, str], query: str) -> list[tuple[Any, ...]]:
    with connect(env) as conn:
        return conn.execute(query.encode()).fetchall()


def _events(capsys: pytest.CaptureFixture[str], name: str) -> list[dict[str, Any]]:
    lines = capsys.readouterr().err.splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    return [event for event in events if event.get("event") == name]


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_every_source_is_pulled_and_the_step_exits_with_the_most_serious_outcome(
    env: FakeDrive,
    pg_env: dict[str, str],
    pushgateway: Pushgateway,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    drops = tmp_path / "drops"
    drops.mkdir()
    (drops / "t-1.csv").write_text("transaction_id,amount\nT1,1\nT2,2\n")
    garbage = _write(tmp_path / "broken.jsonl", "\x00\x01 not json\n")
    missing = str(tmp_path / "nowhere" / "*.csv")
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"""
- uri: {missing}
  entity: transactions
- uri: {drops}/*.csv
  entity: transactions
- uri: {garbage}
  entity: transactions
- uri: gdrive://1Catalog
  entity: products
"""
    )
    capsys.readouterr()
    assert cli.main(["ingest", "--sources", str(sources)]) == ExitCode.CONFIGURATION_ERROR
    per_source = {e["uri"]: e["exit_code"] for e in _events(capsys, "ingest.source")}
    assert per_source == {
        missing: ExitCode.CONFIGURATION_ERROR,
        f"{drops}/*.csv": ExitCode.SUCCESS,
        garbage: ExitCode.FAILURE,
        "gdrive://1Catalog": ExitCode.SUCCESS,
    }
    # the sources after the failing first one landed all the same
    assert _rows(pg_env, "select source, payload->>'product_id' from raw.products") == [
        ("gdrive", "P1")
    ]
    assert len(_rows(pg_env, "select 1 from raw.transactions")) == 2
    code = "dbt_workbench_ingest_source_exit_code"
    assert pushgateway.sample(code, ingest="sources", uri=missing) == 3
    assert pushgateway.sample(code, ingest="sources", uri="gdrive://1Catalog") == 0
    files = "dbt_workbench_ingest_source_files"
    assert pushgateway.sample(files, ingest="sources", uri=garbage, outcome="failed") == 1
    assert pushgateway.sample(files, ingest="sources", uri=f"{drops}/*.csv", outcome="landed") == 1


def test_garbage_outranks_a_transient_failure_and_all_good_is_zero(
    env: FakeDrive, tmp_path: Path
) -> None:
    """A retry of the step is worth it only when every failure was transient: Drive answering
    500 every time (exit 2) beside a garbage file (exit 1) makes the step exit 1."""
    env.faults["/drive/v3/files"] = [Fault(500, drive_error(500, "backendError", "x"))] * 20
    garbage = _write(tmp_path / "g.jsonl", "nope\n")
    mixed = _write(
        tmp_path / "mixed.json",
        json.dumps(
            [
                {"uri": "gdrive://1Catalog", "entity": "products"},
                {"uri": garbage, "entity": "transactions"},
            ]
        ),
    )
    assert cli.main(["ingest", "--sources", mixed]) == ExitCode.FAILURE
    transient = _write(
        tmp_path / "t.json", json.dumps([{"uri": "gdrive://1Catalog", "entity": "products"}])
    )
    assert cli.main(["ingest", "--sources", transient]) == ExitCode.RUNTIME_ERROR
    env.faults.clear()
    assert cli.main(["ingest", "--sources", transient]) == ExitCode.SUCCESS


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[]", "expected a non-empty list"),
        ("- uri: x.csv\n", "entry 1: entity must be one of transactions, products"),
        ("- {uri: x.csv, entity: products, bucket: b}\n", "entry 1: unknown keys bucket"),
        ("- {uri: x.csv, entity: products, source: fax}\n", "source must be one of"),
        ("- [", "not YAML or JSON"),
    ],
)
def test_a_bad_sources_file_exits_3_naming_the_entry(
    env: FakeDrive,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    words: str,
) -> None:
    path = _write(tmp_path / "sources.yaml", content)
    capsys.readouterr()
    assert cli.main(["ingest", "--sources", path]) == ExitCode.CONFIGURATION_ERROR
    [failed] = _events(capsys, "ingest.failed")
    assert words in failed["error"] and path in failed["error"]


def test_sources_and_paths_do_not_mix(env: FakeDrive, tmp_path: Path) -> None:
    path = _write(tmp_path / "s.yaml", "- {uri: x.csv, entity: products}\n")
    argv = ["ingest", "--sources", path, "x.csv"]
    assert cli.main(argv) == ExitCode.CONFIGURATION_ERROR
    assert cli.main(["ingest", "x.csv"]) == ExitCode.CONFIGURATION_ERROR  # no --entity


def test_a_plain_ingest_of_garbage_is_counted_in_its_metrics(
    env: FakeDrive, pushgateway: Pushgateway, tmp_path: Path
) -> None:
    garbage = _write(tmp_path / "noise.jsonl", "\x7fELF binary\n")
    good = _write(tmp_path / "good.jsonl", '{"transaction_id": "T1"}\n')
    argv = ["ingest", garbage, good, "--entity", "transactions"]
    assert cli.main(argv) == ExitCode.FAILURE
    labels = {"ingest": "transactions", "uri": f"{garbage} {good}"}
    files = "dbt_workbench_ingest_source_files"
    assert pushgateway.sample(files, **labels, outcome="failed") == 1
    assert pushgateway.sample(files, **labels, outcome="landed") == 1
    assert pushgateway.sample("dbt_workbench_ingest_source_exit_code", **labels) == 1
