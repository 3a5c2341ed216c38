"""Tiny throwaway dbt projects for runner mechanics (failures, locks, lost connections)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from workbench.config import PROJECT_ROOT

SELECTORS = """selectors:
  - name: bronze
    definition: "tag:bronze"
  - name: silver
    definition: "tag:silver"
  - name: gold
    definition: "tag:gold"
  - name: platinum
    definition: "tag:platinum"
  - name: all
    definition: "fqn:*"
  - name: maintenance
    definition:
      union: ["tag:silver", "tag:gold", "tag:platinum"]
"""


def write_project(root: Path, files: dict[str, str]) -> Path:
    """A dbt project named scout_retail at root (profiles.yml from the real project)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(
        "name: scout_retail\nversion: '1.0'\nprofile: scout_retail\nmodel-paths: ['models']\n"
        "flags:\n  send_anonymous_usage_stats: false\n"
        "models:\n  scout_retail:\n    +tags: ['silver']\n    +schema: silver\n"
    )
    shutil.copy(PROJECT_ROOT / "dbt" / "profiles.yml", root / "profiles.yml")
    (root / "selectors.yml").write_text(SELECTORS)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# A table of 1000 rows whose query first takes a shared advisory lock on GATE_KEY (env): a
# test holding that key exclusively keeps the model running until it lets go. No sleeps.
GATED_MODEL = """{{ config(materialized='table') }}
with gate as (
    select pg_advisory_xact_lock_shared({{ env_var('GATE_KEY', '0') }}::bigint) as opened
)
select id from generate_series(1, 1000) as id cross join gate
"""
GATED_CHILD = """{{ config(materialized='table') }}
select id, id * 2 as doubled from {{ ref('gated') }}
"""
GATED_FILES = {"models/gated.sql": GATED_MODEL, "models/gated_child.sql": GATED_CHILD}


def runner_env(pg_env: dict[str, str], project: Path, work: Path, **extra: str) -> dict[str, str]:
    """Environment for a `workbench run` subprocess: nothing inherited that could leak in."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POSTGRES_", "DBT_", "WORKFLOW_", "POD_", "PUSHGATEWAY"))
    }
    env.update(pg_env)
    env.update(
        DBT_PROJECT_DIR=str(project),
        DBT_TARGET_PATH=str(work / "target"),
        DBT_LOG_PATH=str(work / "logs"),
    )
    env.update(extra)
    return env


# A project where one model fails, its child is skipped and one test of a good model fails.
FAILING_FILES = {
    "models/good.sql": (
        "{{ config(materialized='table') }}\n"
        "select id, case when id % 2 = 0 then id end as maybe\n"
        "from generate_series(1, 10) as id\n"
    ),
    "models/good.yml": (
        "models:\n  - name: good\n    columns:\n      - name: id\n        data_tests: [unique]\n"
        "      - name: maybe\n        data_tests: [not_null]\n"
    ),
    "models/broken.sql": "select no_such_column from (select 1 as id) as one_row\n",
    "models/needs_broken.sql": "select * from {{ ref('broken') }}\n",
}
