"""`workbench sample-data`: determinism, file layout, bad-record coverage, duplicates, anomalies."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from workbench import cli
from workbench.contract import REJECTION_REASONS, ExitCode
from workbench.sample_data.anomalies import (
    FIRST_ALLOWED_WEEK,
    MIN_WEEKS_APART,
    plan_anomalies,
)
from workbench.sample_data.catalog import CATEGORIES
from workbench.sample_data.formats import jsonl_line
from workbench.sample_data.generate import generate
from workbench.sample_data.options import SampleOptions

SMALL = {"transactions": 4000, "products": 100, "stores": 15, "weeks": 26, "seed": 11}


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_same_options_write_identical_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(SampleOptions(out=first, chunk_rows=1500, **SMALL))
    generate(SampleOptions(out=second, chunk_rows=1500, **SMALL))
    generate(SampleOptions(out=other, chunk_rows=1500, **{**SMALL, "seed": 12}))
    assert _files(first) == _files(second)
    assert _files(first)["transactions-0001.jsonl"] != _files(other)["transactions-0001.jsonl"]


def test_cli_writes_the_contract_files_chunked(tmp_path: Path) -> None:
    code = cli.main(
        [
            "sample-data",
            "--out",
            str(tmp_path),
            "--transactions",
            "3000",
            "--products",
            "60",
            "--stores",
            "10",
            "--weeks",
            "20",
            "--chunk-rows",
            "1000",
            "--format",
            "csv",
        ]
    )
    assert code == 0
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert set(expected) == {
        "transactions_records",
        "products_records",
        "rejected_by_reason",
        "superseded",
        "valid_transactions",
        "unparseable_lines",
    }
    chunks = sorted(tmp_path.glob("transactions-*.csv"))
    assert [p.name for p in chunks[:2]] == ["transactions-0001.csv", "transactions-0002.csv"]
    records_per_file = [len(p.read_bytes().splitlines()) - 1 for p in chunks]  # minus header
    assert all(n <= 1000 for n in records_per_file)
    assert records_per_file[:-1] == [1000] * (len(chunks) - 1)
    assert sum(records_per_file) == expected["transactions_records"]
    assert all(p.read_bytes().startswith(b"transaction_id,transaction_date,") for p in chunks)
    products = (tmp_path / "products.csv").read_text().splitlines()
    assert len(products) - 1 == expected["products_records"]
    assert (tmp_path / "anomalies.csv").read_text().startswith("category,week_start,kind,factor\n")


def test_rerun_into_the_same_directory_leaves_no_stale_chunks(tmp_path: Path) -> None:
    generate(SampleOptions(out=tmp_path, chunk_rows=500, **SMALL))
    generate(SampleOptions(out=tmp_path, chunk_rows=10**6, **SMALL))
    assert [p.name for p in tmp_path.glob("transactions-*")] == ["transactions-0001.jsonl"]


def test_a_bad_start_day_is_refused_with_exit_3(tmp_path: Path) -> None:
    bad_option = ExitCode.CONFIGURATION_ERROR
    assert cli.main(["sample-data", "--out", str(tmp_path), "--start", "2024-01-02"]) == bad_option
    assert cli.main(["sample-data", "--out", str(tmp_path), "--bad-share", "0.9"]) == bad_option


def test_every_rejection_reason_and_every_unparseable_kind_is_present(tmp_path: Path) -> None:
    written = generate(SampleOptions(out=tmp_path, bad_share=0.01, **SMALL))
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert list(expected["rejected_by_reason"]) == list(REJECTION_REASONS)  # all, in contract order
    assert expected["unparseable_lines"] >= 4
    lines = written.transaction_files[0].read_bytes().splitlines()
    broken = {"truncated": 0, "array": 0, "utf8": 0, "nul": 0}
    for raw in lines:
        try:
            value = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            broken["utf8"] += 1
            continue
        except ValueError:
            broken["truncated"] += 1
            continue
        if isinstance(value, list):
            broken["array"] += 1
        elif b"\\u0000" in raw:
            broken["nul"] += 1
    assert all(broken.values()), broken
    assert sum(broken.values()) == expected["unparseable_lines"]


def test_clean_sample_has_no_bad_records_and_no_duplicates(tmp_path: Path) -> None:
    generate(SampleOptions(out=tmp_path, bad_share=0.0, duplicate_share=0.0, **SMALL))
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert expected["rejected_by_reason"] == {}
    assert expected["superseded"] == 0
    assert expected["unparseable_lines"] == 0
    assert expected["transactions_records"] == expected["valid_transactions"]


def test_valid_sales_do_not_depend_on_the_bad_share(tmp_path: Path) -> None:
    """Bad records are added, never substituted, so the clean stream is the same data."""
    clean, dirty = tmp_path / "clean", tmp_path / "dirty"
    generate(SampleOptions(out=clean, bad_share=0.0, duplicate_share=0.0, **SMALL))
    generate(SampleOptions(out=dirty, bad_share=0.05, duplicate_share=0.0, **SMALL))
    clean_lines = set((clean / "transactions-0001.jsonl").read_bytes().splitlines())
    dirty_lines = set((dirty / "transactions-0001.jsonl").read_bytes().splitlines())
    assert clean_lines <= dirty_lines


def test_lines_are_the_json_the_standard_encoder_would_write(tmp_path: Path) -> None:
    written = generate(SampleOptions(out=tmp_path, bad_share=0.0, **SMALL))
    for raw in written.transaction_files[0].read_text().splitlines(keepends=True):
        assert jsonl_line(json.loads(raw)) == raw


def test_duplicated_ids_have_a_later_valid_version(tmp_path: Path) -> None:
    generate(SampleOptions(out=tmp_path, bad_share=0.0, duplicate_share=0.05, **SMALL))
    versions: defaultdict[str, list[dict[str, object]]] = defaultdict(list)
    for line in (tmp_path / "transactions-0001.jsonl").read_text().splitlines():
        record = json.loads(line)
        versions[str(record["transaction_id"])].append(record)
    repeated = {k: v for k, v in versions.items() if len(v) > 1}
    expected = json.loads((tmp_path / "expected.json").read_text())
    # with no bad share, the only rejected records are bad first versions that were fixed
    rejected = sum(expected["rejected_by_reason"].values())
    assert rejected > 0
    assert sum(len(v) - 1 for v in repeated.values()) == expected["superseded"] + rejected
    kinds = {"resend": 0, "correction": 0}
    for records in repeated.values():
        stamps = [str(r.get("updated_at", "")) for r in records]
        assert stamps[-1] == max(stamps)  # the last version written is the latest
        if all(r == records[0] for r in records):
            kinds["resend"] += 1
        elif records[0]["amount"] == records[-1]["amount"]:
            kinds["correction"] += 1
            assert stamps[-1] > stamps[0]
    assert all(kinds.values()), kinds


def test_catalog_has_messy_later_versions_of_some_products(tmp_path: Path) -> None:
    generate(SampleOptions(out=tmp_path, **{**SMALL, "products": 400}))
    versions: defaultdict[str, list[dict[str, object]]] = defaultdict(list)
    for line in (tmp_path / "products.jsonl").read_text().splitlines():
        record = json.loads(line)
        versions[str(record["product_id"])].append(record)
    assert len(versions) == 400
    repeated = [v for v in versions.values() if len(v) > 1]
    assert len(repeated) >= 10
    standard = {c.name.lower(): c.name for c in CATEGORIES}
    aliases = {alias: c.name for c in CATEGORIES for alias in c.aliases}
    for records in repeated:
        base, later = records[0], records[-1]
        assert str(later["updated_at"]) > str(base["updated_at"])
        assert (
            " ".join(str(later["product_name"]).split()).lower()
            == str(base["product_name"]).lower()
        )
        assert later["product_name"] != base["product_name"]  # differs only in case/spaces
        key = str(later["category"]).strip().lower()
        assert aliases.get(key) == standard[str(base["category"]).lower()]


@pytest.mark.parametrize("seed", [1, 7, 42, 2024])
def test_anomaly_plan_follows_the_spacing_rules(seed: int) -> None:
    plan = plan_anomalies(seed, 104)
    weeks: defaultdict[int, list[int]] = defaultdict(list)
    for anomaly in plan:
        weeks[anomaly.category_index].append(anomaly.week)
        assert FIRST_ALLOWED_WEEK <= anomaly.week < 104
        if anomaly.kind == "spike":
            assert 3.0 <= anomaly.factor <= 4.0
        else:
            assert anomaly.kind == "drop" and 0.10 <= anomaly.factor <= 0.25
    assert sorted(weeks) == list(range(len(CATEGORIES)))
    for category_weeks in weeks.values():
        assert len(category_weeks) == 2
        assert abs(category_weeks[1] - category_weeks[0]) >= MIN_WEEKS_APART


def test_anomalies_csv_is_the_plan_on_mondays_inside_the_window(tmp_path: Path) -> None:
    generate(SampleOptions(out=tmp_path, transactions=2000, products=50, stores=5))
    start = date(2023, 11, 27)
    with (tmp_path / "anomalies.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 20
    assert {r["category"] for r in rows} == {c.name for c in CATEGORIES}
    for row in rows:
        week_start = date.fromisoformat(row["week_start"])
        assert week_start.isoweekday() == 1
        assert start + timedelta(weeks=FIRST_ALLOWED_WEEK) <= week_start
        assert week_start <= date(2025, 11, 17)  # the last Monday of 104 weeks
        assert row["kind"] in {"spike", "drop"}
