"""Where dbt needs a fact of workbench.contract as a literal (SQL, YAML), the literal is checked
here against the contract; everything in Python imports it."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import yaml

from workbench import contract
from workbench.ingest.schema import raw_schema_statements
from workbench.sample_data.catalog import CATEGORIES

DBT = Path(__file__).resolve().parent.parent / "dbt"


def _sql(relative: str) -> str:
    return (DBT / relative).read_text(encoding="utf-8")


def test_the_models_rejection_reasons_are_the_contract_in_its_order() -> None:
    checks = _sql("models/silver/silver_transaction_checks.sql")
    reasons = checks[checks.index("array[") :]
    named = re.findall(r"then '([a-z_]+)'", reasons)
    # A reason may be produced by more than one branch; the order of first appearance counts.
    assert list(dict.fromkeys(named)) == list(contract.REJECTION_REASONS)


def test_rejudged_reasons_are_the_contract() -> None:
    macro = _sql("macros/rejudged_reasons.sql")
    body = macro[macro.index("{% macro") :]
    assert tuple(re.findall(r"'([a-z_]+)'", body)) == contract.REJUDGED_REASONS
    assert set(contract.REJUDGED_REASONS) <= set(contract.REJECTION_REASONS)


def test_dbt_business_timezone_is_the_contract() -> None:
    project = yaml.safe_load(_sql("dbt_project.yml"))
    assert project["vars"]["business_timezone"] == contract.BUSINESS_TIMEZONE


def test_the_selectors_are_the_layers() -> None:
    selectors = yaml.safe_load(_sql("selectors.yml"))
    assert [s["name"] for s in selectors["selectors"]] == list(contract.LAYERS)


def test_raw_landing_accepts_exactly_the_contract_sources() -> None:
    ddl = "\n".join(raw_schema_statements())
    for table in contract.ENTITIES:
        assert f"raw.{table}" in ddl
    checks = set(re.findall(r"check \(source in \(([^)]*)\)\)", ddl))
    assert checks == {", ".join(f"'{source}'" for source in contract.SOURCES)}


def test_every_exit_code_is_described() -> None:
    described = contract.describe_exit_codes()
    for code in contract.ExitCode:
        assert f"{int(code)} " in described
    assert described.startswith("0 success, 1 failure, 2 runtime error, 3 configuration error")


def test_run_arguments_name_every_parameter_once() -> None:
    arguments = contract.run_arguments("silver", full_refresh=True)
    assert list(arguments) == list(contract.RUN_PARAMETER_OPTIONS)
    assert arguments["full_refresh"] == "true"
    assert contract.run_arguments("gold")["full_refresh"] == "false"


def test_the_sample_catalog_sells_exactly_the_seeds_categories() -> None:
    """The accepted categories are the seed's rows; the synthetic producer's standard names
    and their renames must be what the seeds accept and map."""
    with (DBT / "seeds" / "accepted_categories.csv").open(encoding="utf-8") as handle:
        accepted = {row["category"] for row in csv.DictReader(handle)}
    with (DBT / "seeds" / "category_mapping.csv").open(encoding="utf-8") as handle:
        mapping = {row["raw_category"]: row["category"] for row in csv.DictReader(handle)}
    assert {category.name for category in CATEGORIES} == accepted
    for category in CATEGORIES:
        for alias in category.aliases:
            assert mapping[alias] == category.name


def test_the_data_pages_reasons_and_categories_are_the_contracts() -> None:
    """docs/data.md lists the rejection reasons in order and the standard categories."""
    page = (DBT.parent / "docs" / "data.md").read_text(encoding="utf-8")
    order = page.split("its primary reason is the first in", 1)[1].split(".", 1)[0]
    assert re.findall(r"`([a-z_]+)`", order) == list(contract.REJECTION_REASONS)
    listed = page.split("Standard categories:", 1)[1].split(". Aliases", 1)[0]
    with (DBT / "seeds" / "accepted_categories.csv").open(encoding="utf-8") as handle:
        accepted = [row["category"] for row in csv.DictReader(handle)]
    assert [name.strip() for name in " ".join(listed.split()).split(",")] == accepted


def test_the_test_scope_macro_reads_the_contracts_env_var() -> None:
    macro = _sql("macros/test_scope.sql")
    assert re.findall(r"env_var\('([A-Z_]+)'", macro) == [contract.TEST_SCOPE_ENV]
