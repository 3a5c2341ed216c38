"""The bench's load generator (npm autocannon, bench/load/*.mjs) against a real `workbench serve`:
every record of the files acknowledged once and in raw, and a refused request fails the driver.

autocannon comes from `make tools` (scripts/install-bench-load.sh, which this test also runs:
it is a no-op when bench/load/node_modules matches the lock file, and fails naming npm when npm
is missing), so the test never skips.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import prerequisites
from tests.serve.server import TOKEN, Served, query, server_env, serving

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LOAD_DIR = REPO / "bench" / "load"
# Two files, the second with a short last batch and no final newline.
FILE_RECORDS = (2500, 1007)


@pytest.fixture(scope="module")
def node() -> str:
    found = prerequisites.require("node")
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "install-bench-load.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"installing autocannon failed:\n{done.stdout}{done.stderr}"
    return found


@pytest.fixture()
def served(pg_env: dict[str, str]) -> Iterator[Served]:
    with serving(server_env(pg_env), "--no-bronze-follow") as server:
        yield server


def _files(directory: Path) -> list[Path]:
    paths = []
    for index, count in enumerate(FILE_RECORDS):
        lines = [
            json.dumps({"transaction_id": f"F{index}-{n:05d}", "amount": "1.50", "quantity": 1})
            for n in range(count)
        ]
        path = directory / f"transactions-{index}.jsonl"
        path.write_text("\n".join(lines) + ("\n" if index == 0 else ""))
        paths.append(path)
    return paths


def _drive(
    node: str, script: str, token: str, summary: Path, *args: str
) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [node, str(LOAD_DIR / script), "--summary", str(summary), *args],
        env={"PATH": "/usr/bin:/bin", "LOAD_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert summary.exists(), f"{script} wrote no summary:\n{done.stdout}{done.stderr}"
    return done.returncode, json.loads(summary.read_text()), done.stdout + done.stderr


def _in_raw(pg_env: dict[str, str]) -> tuple[int, int]:
    """(rows, distinct transaction ids) in raw.transactions; (0, 0) before the first landing."""
    if query(pg_env, "select to_regclass('raw.transactions')")[0][0] is None:
        return 0, 0
    rows = query(
        pg_env,
        "select count(*), count(distinct payload->>'transaction_id') from raw.transactions",
    )
    return int(rows[0][0]), int(rows[0][1])


def test_every_record_acknowledged_once(
    node: str, served: Served, pg_env: dict[str, str], tmp_path: Path
) -> None:
    files = [str(path) for path in _files(tmp_path)]
    code, summary, output = _drive(
        node, "post_batches.mjs", TOKEN, tmp_path / "batches.json",
        "--url", served.url, "--batch", "1000", "--connections", "4", *files,
    )  # fmt: skip
    assert code == 0, output
    total = sum(FILE_RECORDS)
    assert summary["batches"] == 3 + 2  # 2500 -> 3 requests, 1007 -> 2: none spans two files
    assert summary["status_202"] == summary["requests_sent"] == 5
    assert summary["non_202"] == summary["errors"] == 0
    assert summary["lines_sent"] == summary["records_acknowledged"] == total
    assert _in_raw(pg_env) == (total, total)


def test_refused_requests_fail_the_driver(
    node: str, served: Served, pg_env: dict[str, str], tmp_path: Path
) -> None:
    files = [str(path) for path in _files(tmp_path)]
    code, summary, _ = _drive(
        node, "post_batches.mjs", "not-the-token", tmp_path / "refused.json",
        "--url", served.url, "--connections", "2", *files,
    )  # fmt: skip
    assert code == 1
    assert summary["non_202"] == summary["non_2xx"] == summary["batches"] == 5
    assert summary["records_acknowledged"] == 0
    assert {failure["status"] for failure in summary["failures"]} == {401}
    assert _in_raw(pg_env) == (0, 0)


def test_offered_load_distinct_records(
    node: str, served: Served, pg_env: dict[str, str], tmp_path: Path
) -> None:
    code, summary, output = _drive(
        node, "offered_load.mjs", TOKEN, tmp_path / "load.json",
        "--url", served.url, "--rate", "20", "--seconds", "2", "--slices", "5",
    )  # fmt: skip
    assert code == 0, output
    assert summary["requests_sent"] == summary["status_2xx"] == 40
    assert summary["non_2xx"] == summary["errors"] == 0
    assert summary["latency_ms"]["samples"] == 40
    assert _in_raw(pg_env) == (40, 40)  # idReplacement: a distinct transaction_id each
