"""Which rows a run's data tests read, and when the runtime widens that to whole tables.

dbt decides the scope (dbt/macros/test_scope.sql): the hourly layer tests the rows its run
wrote, every other run tests everything. The runtime overrides that in one case: when the
layer's previous run did not succeed, its batch may be untested (the run died before its tests)
or failing (a test's failing rows are not in the next batch). That next run then tests whole
tables (var test_scope = full), so a failure is never left behind because the batch moved on.
"""

from __future__ import annotations

from dataclasses import replace

from workbench.run.params import RunParams

TEST_SCOPE_VAR = "test_scope"
FULL_SCOPE = "full"


def widened_after_failure(params: RunParams) -> RunParams | None:
    """The params with whole-table tests, or None when the caller already chose a scope."""
    if TEST_SCOPE_VAR in params.vars:
        return None
    return replace(params, vars={**params.vars, TEST_SCOPE_VAR: FULL_SCOPE})
