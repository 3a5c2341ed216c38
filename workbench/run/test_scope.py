"""Which rows a run's data tests read, and when the runtime widens that to whole tables.

dbt decides the scope (dbt/macros/test_scope.sql): the hourly layer tests the rows its run
wrote, every other run tests everything. The runtime overrides that in one case: when the
layer's previous run did not succeed, its batch may be untested (the run died before its tests)
or failing (a test's failing rows are not in the next batch). That next run then tests whole
tables (var test_scope = full), so a failure is never left behind because the batch moved on.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from workbench.run.params import RunParams
from workbench.run.unchanged import project_config

TEST_SCOPE_VAR = "test_scope"
FULL_SCOPE = "full"
BATCH_TESTED_VAR = "batch_test_selectors"


def batch_tested_layers(project_dir: Path) -> frozenset[str]:
    """The layers whose runs test only their batch (dbt_project.yml's var, read as dbt has it)."""
    selectors = project_config(project_dir).get("vars", {}).get(BATCH_TESTED_VAR) or ()
    return frozenset(str(name) for name in selectors)


def widened_after_failure(params: RunParams, project_dir: Path) -> RunParams | None:
    """The params with whole-table tests, or None: the layer tests whole tables anyway, or the
    caller chose a scope."""
    if TEST_SCOPE_VAR in params.vars or params.layer not in batch_tested_layers(project_dir):
        return None
    return replace(params, vars={**params.vars, TEST_SCOPE_VAR: FULL_SCOPE})
