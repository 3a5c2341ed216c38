"""Skip when nothing is new: on the real project and a real PostgreSQL, a layer run whose inputs
have not changed since the layer's last successful run exits 0 without starting dbt, says so
(log event, history, Argo output), and every kind of new input makes the next run build.

Silver re-judges rejections that depend on the catalog (unknown_product) and on the business
day (future_date) on every run, so new bronze_products rows and a new business day must make
silver build even when no transaction arrived.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.dbt_support import PRODUCTS, _line, connect, land
from tests.runtime.cli_runs import CliRun, run_workbench
from tests.runtime.dbt_projects import runner_env
from workbench.config import dbt_project_dir
from workbench.run.unchanged import code_digest, input_fingerprint, layer_inputs, load_manifest

pytestmark = pytest.mark.integration


@dataclass
class Project:
    env: dict[str, str]
    pg_env: dict[str, str]
    work: Path

    def run(self, layer: str, *extra: str) -> CliRun:
        run = run_workbench("run", "--layer", layer, *extra, env=self.env)
        assert run.exit_code == 0, run.stderr
        return run

    def outcome(self) -> str:
        return (self.work / "outputs" / "outcome").read_text()


def _skipped(run: CliRun) -> bool:
    checks = run.named("nothing_new") + run.named("input_check")
    assert len(checks) == 1, run.stderr
    skipped = bool(checks[0]["skip"])
    assert skipped == (not run.named("dbt_build_started"))  # a skip never starts dbt
    return skipped


@pytest.fixture(scope="module")
def project(module_pg_env: dict[str, str], module_tmp: Path) -> Iterator[Project]:
    env = runner_env(
        module_pg_env,
        dbt_project_dir(),
        module_tmp,
        WORKBENCH_OUTPUTS_DIR=str(module_tmp / "outputs"),
    )
    with connect(module_pg_env) as conn:
        land(conn, "products", PRODUCTS, batch_id="p1")
        land(conn, "transactions", [_line("T1"), _line("T2", product="P9")], batch_id="t1")
    built = Project(env, module_pg_env, module_tmp)
    built.run("bronze")
    yield built


def test_silver_then_gold_skip_when_nothing_is_new_and_build_when_something_is(
    project: Project,
) -> None:
    assert not _skipped(project.run("silver"))  # first run: nothing to compare with
    again = project.run("silver")
    assert _skipped(again) and project.outcome() == "nothing-new"
    (invocation,) = again.named("dbt_invocation")
    assert invocation["nothing_new"] is True and invocation["nodes_total"] == 0

    assert not _skipped(project.run("gold"))
    assert _skipped(project.run("gold"))  # silver did not change

    # the forced build is recorded, and it changes nothing silver reads: the next run skips
    assert not _skipped(project.run("silver", "--force"))
    assert _skipped(project.run("silver"))

    # a new catalog version (it may resolve an unknown_product rejection): silver builds
    with connect(project.pg_env) as conn:
        land(conn, "products", [{**PRODUCTS[1], "product_id": "P9"}], batch_id="p2")
    project.run("bronze")
    assert not _skipped(project.run("silver"))
    assert project.outcome() == "success"

    with connect(project.pg_env) as conn:
        recorded = conn.execute(
            "select count(*) filter (where nothing_new), count(*) filter (where not nothing_new)"
            " from ops.dbt_invocations where layer = 'silver'"
        ).fetchone()
    assert recorded == (2, 3)


def test_new_transactions_make_silver_build(project: Project) -> None:
    project.run("silver")  # whatever the state, the next one has a baseline
    assert _skipped(project.run("silver"))
    with connect(project.pg_env) as conn:
        land(conn, "transactions", [_line("T3")], batch_id="t2")
    assert _skipped(project.run("silver"))  # raw is not silver's input: bronze has not run
    project.run("bronze")
    assert not _skipped(project.run("silver"))
    assert not _skipped(project.run("gold"))  # silver has a new validated transaction
    assert _skipped(project.run("gold"))


def test_a_new_business_day_changes_the_fingerprint(project: Project) -> None:
    """future_date rejections are judged against the business day: the fingerprint must differ
    from one day to the next with nothing else changed. Kiritimati (UTC+14) and Pago Pago
    (UTC-11) are 25 hours apart, so their dates differ at every instant."""
    manifest = load_manifest([project.work / "target" / "manifest.json"])
    inputs = layer_inputs(manifest, "silver")
    assert {(r.schema, r.name) for r in inputs} >= {
        ("bronze", "bronze_transactions"),
        ("bronze", "bronze_products"),
    }
    assert all(r.schema != "silver" for r in inputs)  # the layer's own tables are no input
    code = code_digest(dbt_project_dir())
    with psycopg.connect(**_kwargs(project.pg_env)) as conn:
        today, tomorrow, same = (
            input_fingerprint(conn, inputs, timezone=tz, code=code, run_vars={})
            for tz in ("Pacific/Pago_Pago", "Pacific/Kiritimati", "Pacific/Pago_Pago")
        )
    assert today != tomorrow and today == same


def _kwargs(env: dict[str, str]) -> dict[str, str]:
    keys = {"host": "POSTGRES_HOST", "port": "POSTGRES_PORT", "user": "POSTGRES_USER"}
    keys |= {"password": "POSTGRES_PASSWORD", "dbname": "POSTGRES_DB"}
    return {arg: env[var] for arg, var in keys.items()}
