"""Hostile input: each corpus record ends exactly where its sidecar says; none lost or altered.

One database per module: the corpus's catalogue and transactions are ingested with
`workbench ingest` and every layer is built with `workbench run --layer all`; then each line of
hostile_transactions.jsonl is located (bronze by file + line, silver / rejected by raw_id,
raw.ingest_errors by file + line) and compared with hostile_expected.json.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.pgcluster import TEST_PASSWORD, PostgresCluster
from tests.reliability.corpus import build
from tests.reliability.support import (
    Database,
    create_database,
    drop_database,
    workbench,
    workbench_env,
)
from workbench.contract import INGEST_ERROR_TEXT_MAX_BYTES

pytestmark = pytest.mark.integration

REASONS = [
    "missing_transaction_id",
    "invalid_type",
    "missing_required_field",
    "invalid_enum",
    "unknown_category",
    "non_positive_amount",
    "future_date",
    "unknown_product",
    "amount_mismatch",
]


def _expected() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(build.EXPECTED_FILE.read_text())["records"]
    return records


def _lines() -> list[bytes]:
    return build.TRANSACTIONS_FILE.read_bytes().splitlines(keepends=True)


@dataclass
class Landed:
    db: Database
    workdir: Path
    transactions_file: Path
    ingest_exit: int
    run_exit: int
    places: dict[int, str]  # line -> silver | rejected | superseded | ingest_error | skipped
    raw_ids: dict[int, int]


def _raw_ids(db: Database, table: str) -> set[int]:
    """raw_ids of a silver table; none when the run failed to build it (the tests say so)."""
    if db.scalar("select to_regclass(%s) is null", (table,)):
        return set()
    return {r for (r,) in db.rows(f"select raw_id from {table}")}


def _locate(db: Database, source_file: str) -> tuple[dict[int, str], dict[int, int]]:
    bronze = dict(
        db.rows(
            "select source_row, raw_id from raw.transactions where source_file = %s",
            (source_file,),
        )
    )
    errors = {
        row
        for (row,) in db.rows(
            "select source_row from raw.ingest_errors where entity = 'transactions'"
            " and source_file = %s",
            (source_file,),
        )
    }
    silver = _raw_ids(db, "silver.silver_validated_transactions")
    rejected = _raw_ids(db, "silver.silver_rejected_transactions")
    places: dict[int, str] = {}
    for line in range(1, len(_lines()) + 1):
        found = []
        if line in errors:
            found.append("ingest_error")
        if line in bronze:
            raw_id = bronze[line]
            in_silver, in_rejected = raw_id in silver, raw_id in rejected
            if in_silver and in_rejected:
                found.append("silver+rejected")
            elif in_silver:
                found.append("silver")
            elif in_rejected:
                found.append("rejected")
            else:
                found.append("superseded")
        places[line] = "+".join(found) if found else "skipped"
    return places, bronze


@pytest.fixture(scope="module")
def landed(
    pg_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Landed]:
    db = create_database(pg_cluster)
    workdir = tmp_path_factory.mktemp("hostile")
    # A copy under a plain name: source_file is the absolute path as given.
    transactions = workdir / "hostile_transactions.jsonl"
    transactions.write_bytes(build.TRANSACTIONS_FILE.read_bytes())
    products = workdir / "hostile_products.jsonl"
    products.write_bytes(build.PRODUCTS_FILE.read_bytes())
    try:
        with workbench_env(db, workdir):
            assert workbench("ingest", str(products), "--entity", "products") == 0
            ingest_exit = workbench("ingest", str(transactions), "--entity", "transactions")
            run_exit = workbench("run", "--layer", "all")
        places, raw_ids = _locate(db, str(transactions))
        yield Landed(db, workdir, transactions, ingest_exit, run_exit, places, raw_ids)
    finally:
        drop_database(pg_cluster, db)


def test_the_committed_corpus_is_what_the_builder_writes() -> None:
    for path, content in build.render().items():
        assert path.read_bytes() == content, f"{path.name} is stale: python -m {build.__name__}"


def test_the_corpus_covers_every_hostile_kind() -> None:
    expected = _expected()
    assert len(expected) >= 40
    assert len(expected) == len(_lines())
    reasons = {e.get("reason") for e in expected if e["outcomes"] == ["rejected"]}
    assert set(REASONS) <= reasons
    outcomes = Counter(o for e in expected for o in e["outcomes"])
    assert outcomes["ingest_error"] >= 8 and outcomes["superseded"] >= 2
    raw = build.TRANSACTIONS_FILE.read_bytes()
    for needle in (
        b"\xef\xbb\xbf",
        b"\xe9",
        b"NaN",
        b"Infinity",
        b"\\u0000",
        b"DROP TABLE",
        b"{{",
        "🛒".encode(),
        b"0001-01-01",
        b"2999-12-31",
        b"[[[[",
        b"\r\n",
    ):
        assert needle in raw, needle
    assert not raw.endswith(b"\n"), "the last line must lack its newline"


def test_ingest_and_run_succeed_on_hostile_input(landed: Landed) -> None:
    assert landed.ingest_exit == 0, "hostile lines must be reported, not fail the ingest"
    assert landed.run_exit == 0, "hostile values must become rejections, never a failed run"


def test_every_record_is_in_exactly_the_expected_place(landed: Landed) -> None:
    wrong = {
        e["line"]: (e["note"], e["outcomes"], landed.places[e["line"]])
        for e in _expected()
        if landed.places[e["line"]] not in e["outcomes"]
    }
    assert not wrong, json.dumps(wrong, indent=1, ensure_ascii=False)


def test_counts_reconcile_exactly(landed: Landed) -> None:
    db, name = landed.db, str(landed.transactions_file)
    lines = len(_lines())
    bronze = db.scalar("select count(*) from raw.transactions where source_file = %s", (name,))
    errors = db.scalar("select count(*) from raw.ingest_errors where source_file = %s", (name,))
    skipped = sum(1 for p in landed.places.values() if p == "skipped")
    assert bronze + errors + skipped == lines
    assert db.scalar("select count(*) from bronze.bronze_transactions") == bronze
    silver = db.scalar("select count(*) from silver.silver_validated_transactions")
    rejected = db.scalar("select count(*) from silver.silver_rejected_transactions")
    superseded = sum(1 for p in landed.places.values() if p == "superseded")
    assert bronze == silver + rejected + superseded
    assert (
        Counter(landed.places.values())
        == Counter(
            {
                "silver": silver,
                "rejected": rejected,
                "superseded": superseded,
                "ingest_error": errors,
                "skipped": skipped,
            }
        )
        - Counter()
    )


def test_rejections_carry_the_primary_and_every_further_reason(landed: Landed) -> None:
    rows = {
        raw_id: (reason, list(reasons))
        for raw_id, reason, reasons in landed.db.rows(
            "select raw_id, rejection_reason, rejection_reasons"
            " from silver.silver_rejected_transactions"
        )
    }
    mismatches = {}
    for e in _expected():
        if landed.places[e["line"]] != "rejected" or "reason" not in e:
            continue
        reason, reasons = rows[landed.raw_ids[e["line"]]]
        if reason != e["reason"] or not set(e.get("also", [])) <= set(reasons):
            mismatches[e["line"]] = (e["note"], e["reason"], e.get("also"), reason, reasons)
    assert not mismatches, mismatches


def test_bronze_keeps_every_payload_unaltered(landed: Landed) -> None:
    """The jsonb in bronze equals the producer's JSON, value for value (emoji, SQL, 300 kB)."""
    payloads = dict(
        landed.db.rows(
            "select b.raw_id, b.payload::text from bronze.bronze_transactions b"
            " join raw.transactions r using (raw_id) where r.source_file = %s",
            (str(landed.transactions_file),),
        )
    )
    lines = _lines()
    altered = []
    for line_no, raw_id in landed.raw_ids.items():
        text = lines[line_no - 1].decode("utf-8").removeprefix("\ufeff")
        if json.loads(text, parse_float=Decimal) != json.loads(
            payloads[raw_id], parse_float=Decimal
        ):
            altered.append(line_no)
    assert not altered
    assert len(payloads) == len(landed.raw_ids)


def test_text_reaches_silver_byte_for_byte(landed: Landed) -> None:
    for e in _expected():
        if not e.get("preserve") or landed.places[e["line"]] != "silver":
            continue
        raw_id = landed.raw_ids[e["line"]]
        for column, text in e["preserve"].items():
            stored = landed.db.scalar(
                f"select {column} from silver.silver_validated_transactions where raw_id = %s",
                (raw_id,),
            )
            assert stored == text, (e["note"], column)
            assert stored.encode() == text.encode()


def test_unparseable_lines_keep_a_reason_and_their_text(landed: Landed) -> None:
    rows = landed.db.rows(
        "select source_row, reason, raw_text from raw.ingest_errors where source_file = %s",
        (str(landed.transactions_file),),
    )
    assert rows
    lines = _lines()
    cut = 0
    for source_row, reason, raw_text in rows:
        assert reason and reason.strip(), source_row
        original = lines[source_row - 1].rstrip(b"\r\n")
        if len(original) > INGEST_ERROR_TEXT_MAX_BYTES:
            # the first 64 KiB, the full length and sha256 in the reason (a 50 MB broken line
            # must not become a 50 MB row)
            assert raw_text.encode() == original[:INGEST_ERROR_TEXT_MAX_BYTES], source_row
            digest = hashlib.sha256(original).hexdigest()
            assert f"line of {len(original)} bytes (sha256 {digest})" in reason, source_row
            cut += 1
        elif original.isascii():
            assert raw_text.rstrip("\r\n") == original.decode(), source_row
        else:
            assert raw_text, source_row
    assert cut == 1, "the corpus has one error line over 64 KiB"


def test_reingest_and_rerun_change_nothing(landed: Landed) -> None:
    db = landed.db
    raw_before = {t: db.digest("raw", t, frozenset()) for t in ("transactions", "ingest_errors")}
    models_before = db.digests()
    with workbench_env(db, landed.workdir):
        assert workbench("ingest", str(landed.transactions_file), "--entity", "transactions") == 0
        assert workbench("run", "--layer", "all") == 0
    assert {t: db.digest("raw", t, frozenset()) for t in raw_before} == raw_before
    assert db.digests() == models_before


def test_an_oversized_identifier_cannot_fail_the_silver_layer(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    """A 9 kB store_id must end in silver or rejected; it must not stop the other records.

    (A btree index entry holds at most ~2.7 kB: an index on a free-text column fails the whole
    model unless silver bounds what it indexes.)
    """
    db = Database(pg_env)
    data = tmp_path / "oversized.jsonl"
    normal = json.dumps(
        {
            **json.loads(build.oversized_identifier_line()),
            "transaction_id": "HX-normal",
            "store_id": "S-001",
        }
    )
    data.write_bytes(build.oversized_identifier_line() + normal.encode() + b"\n")
    with workbench_env(db, tmp_path):
        assert workbench("ingest", str(build.PRODUCTS_FILE), "--entity", "products") == 0
        assert workbench("ingest", str(data), "--entity", "transactions") == 0
        code = workbench(
            "run",
            "--layer",
            "silver",
            "--select",
            "tag:bronze tag:silver",
            "--exclude",
            "resource_type:test resource_type:unit_test",
        )
    assert code == 0, "one oversized value failed the silver models"
    placed = db.scalar(
        "select count(*) from silver.silver_validated_transactions where transaction_id = 'HX-016'"
    ) + db.scalar(
        "select count(*) from silver.silver_rejected_transactions where transaction_id = 'HX-016'"
    )
    assert placed == 1
    assert (
        db.scalar(
            "select count(*) from silver.silver_validated_transactions"
            " where transaction_id = 'HX-normal'"
        )
        == 1
    )


def test_no_secret_in_the_real_projects_artifacts_and_logs(landed: Landed) -> None:
    """dbt's target/ (manifest, run_results, compiled SQL) and logs of a real-project run."""
    leaked = [
        str(path)
        for path in landed.workdir.rglob("*")
        if path.is_file() and TEST_PASSWORD.encode() in path.read_bytes()
    ]
    assert not leaked
    assert any(landed.workdir.glob("target/*.json")), "no dbt artifacts to check"
