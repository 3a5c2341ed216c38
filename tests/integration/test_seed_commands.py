"""The Scout Retail README's commands, as docs/data-model.md lists them, run verbatim from dbt/
on a real PostgreSQL holding landed sample data, in the order a user types them; then its
monitoring query `SELECT * FROM test_failures.silver_validated_transactions;` shows a failing
test's rows, and after the data is repaired, none.

dbt stores one failure table per test (dbt-core
core/dbt/include/global_project/macros/materializations/tests/test.sql); the per-model views
come from the project's on-run-end hook, dbt/macros/failing_rows_views.sql.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg.types.json import Jsonb

from tests.dbt_support import connect
from workbench import cli
from workbench.config import PROJECT_ROOT

pytestmark = pytest.mark.integration

DOC = PROJECT_ROOT / "docs" / "data-model.md"
SECTION = "### The Scout Retail commands"
COMMAND_TIMEOUT_SECONDS = 300


def seed_section() -> tuple[list[str], list[str]]:
    """The section's bash commands (one per line) and its sql blocks."""
    text = DOC.read_text().split(SECTION, 1)[1].split("\n### ", 1)[0]
    bash = re.findall(r"```bash\n(.*?)```", text, flags=re.S)
    sql = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    assert len(bash) == 1 and sql, f"{DOC}: the section lost its blocks"
    return [line for line in bash[0].splitlines() if line.strip()], sql


def _shell(line: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", line],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )


@pytest.fixture()
def landed(
    pg_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A user's shell after `workbench ingest`: POSTGRES_* exported, the venv activated."""
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    data = tmp_path / "data"
    assert cli.main(["sample-data", "--out", str(data), "--transactions", "3000"]) == 0
    assert cli.main(["ingest", str(data / "products.jsonl"), "--entity", "products"]) == 0
    assert (
        cli.main(["ingest", str(data / "transactions-0001.jsonl"), "--entity", "transactions"]) == 0
    )
    shell = {k: v for k, v in os.environ.items() if not k.startswith(("DBT_", "WORKBENCH_"))}
    return {
        **shell,
        **pg_env,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{shell['PATH']}",
        # dbt writes its target and logs here instead of the checkout's dbt/target.
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }


def test_the_seed_commands_and_its_failing_rows_query(landed: dict[str, str]) -> None:
    commands, (failing_rows_query, per_test_query) = seed_section()
    assert "SELECT * FROM test_failures.silver_validated_transactions;" in failing_rows_query
    started = datetime.now(UTC) - timedelta(seconds=5)
    cwd = PROJECT_ROOT
    for line in commands:
        if line.startswith("cd "):
            cwd = (cwd / line.removeprefix("cd ").strip()).resolve()
            continue
        if line == "dbt test --store-failures":
            break  # run below, once a silver test has something to find
        done = _shell(line, cwd, landed)
        assert done.returncode == 0, f"{line}\n{done.stdout[-3000:]}"
    assert cwd == PROJECT_ROOT / "dbt"
    assert commands[-2:] == ["dbt test --store-failures", "cd .."]

    with connect(landed) as conn:
        assert conn.execute(failing_rows_query).fetchall() == [], "failures before any"
        # A product leaves the catalog after its sales were validated: the relationships test
        # from silver_validated_transactions to silver_products fails for exactly those sales.
        product, sales = conn.execute(
            "select product_id, count(*) from silver.silver_validated_transactions"
            " group by 1 order by 2 desc, 1 limit 1"
        ).fetchone()
        (catalog_row,) = conn.execute(
            "delete from silver.silver_products as p where product_id = %s returning to_jsonb(p)",
            (product,),
        ).fetchone()

    failed = _shell("dbt test --store-failures", cwd, landed)

    assert failed.returncode == 1, failed.stdout[-3000:]
    with connect(landed) as conn:
        cursor = conn.execute(failing_rows_query)
        columns = [column.name for column in cursor.description or []]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        per_test = conn.execute(per_test_query).fetchall()
    assert columns == ["test_name", "failure_table", "failing_row", "stored_at"]
    assert {row["test_name"] for row in rows} == {
        "relationships_silver_validated_transactions_product_id__product_id__ref_silver_products_"
    }
    assert [row["failing_row"] for row in rows] == [{"from_field": product}] * sales
    assert all(row["stored_at"] >= started for row in rows)
    assert [(name, count) for name, count, _ in per_test] == [(rows[0]["test_name"], sales)]

    # The product back in the catalog, the next test run stores no failures and the view is empty.
    with connect(landed) as conn:
        conn.execute(
            "insert into silver.silver_products"
            " select * from jsonb_populate_record(null::silver.silver_products, %s::jsonb)",
            (Jsonb(catalog_row),),
        )
    repaired = _shell("dbt test --store-failures", cwd, landed)
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    with connect(landed) as conn:
        assert conn.execute(failing_rows_query).fetchall() == []
        views = conn.execute(
            "select table_name from information_schema.views where table_schema = 'test_failures'"
        ).fetchall()
    models = {path.stem for path in (PROJECT_ROOT / "dbt" / "models").rglob("*.sql")}
    assert {name for (name,) in views} == models


def test_a_run_before_the_seeds_are_loaded_says_which_step_is_missing(
    landed: dict[str, str],
) -> None:
    """The Scout Retail README lists no `dbt seed`: on an empty database its silver run stops
    before any node, naming the seed and the command, instead of failing inside the first silver
    model on `relation "silver.category_mapping" does not exist`. Bronze reads no seed and runs."""
    dbt_dir = PROJECT_ROOT / "dbt"
    bronze = _shell("dbt run --models bronze", dbt_dir, landed)
    assert bronze.returncode == 0, bronze.stdout[-3000:]

    silver = _shell("dbt run --models silver+ gold+", dbt_dir, landed)

    assert silver.returncode != 0
    assert (
        "the seeds accepted_categories, category_mapping are not loaded in this database"
        in silver.stdout
    ), silver.stdout[-3000:]
    assert "run `dbt seed` once" in silver.stdout
    assert "does not exist" not in silver.stdout, silver.stdout[-3000:]
    with connect(landed) as conn:
        (silver_tables,) = conn.execute(
            "select count(*) from information_schema.tables where table_schema = 'silver'"
        ).fetchone()
    assert silver_tables == 0

    seeded = _shell("dbt seed", dbt_dir, landed)
    assert seeded.returncode == 0, seeded.stdout[-3000:]
    again = _shell("dbt run --models silver+ gold+", dbt_dir, landed)
    assert again.returncode == 0, again.stdout[-3000:]
