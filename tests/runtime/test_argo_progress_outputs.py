"""What the Argo UI shows of a run: self-reported progress and the node's output parameters.

No Argo executor can run here, so the pod's side is run for real (`workbench run` against a
real PostgreSQL) and the executor's reading of the files is pinned from argo-workflows v4.1.2:
- progress: workflow/executor/executor.go:1416-1438 re-reads the whole file on every write
  and parses only its last non-empty line; pkg/apis/workflow/v1alpha1/progress.go:18-45
  accepts "N/M" when 0 <= N <= M and M > 0. The controller points ARGO_PROGRESS_FILE at
  /var/run/argo/progress (workflow/controller/workflowpod.go:659-664,
  workflow/common/common.go:267).
- outputs: workflow/executor/executor.go:765-782 reads each valueFrom.path from the shared
  volume mount and trims one trailing newline; a missing file without a default is an error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.runtime.cli_runs import run_workbench
from tests.runtime.dbt_projects import FAILING_FILES, runner_env, write_project
from workbench.contract import OUTPUT_NAMES
from workbench.run.progress import ProgressFile, progress_line

pytestmark = pytest.mark.integration

ARGO_PROGRESS = re.compile(r"(\d+)/(\d+)")  # progress.go: N/M, integers


def _argo_progress(path: Path) -> tuple[int, int]:
    """What the executor reports: the last non-empty line, parsed as Argo parses it."""
    last = path.read_text().strip().split("\n")[-1].strip()
    match = ARGO_PROGRESS.fullmatch(last)
    assert match, f"Argo cannot parse {last!r}"
    done, total = int(match[1]), int(match[2])
    assert 0 <= done <= total and total > 0  # progress.go IsValid
    return done, total


def test_a_failing_run_reports_progress_per_node_and_its_results_as_outputs(
    pg_env: dict[str, str], tmp_path: Path
) -> None:
    project = write_project(tmp_path / "project", FAILING_FILES)
    progress, outputs = tmp_path / "argo" / "progress", tmp_path / "outputs"
    progress.parent.mkdir()
    env = runner_env(
        pg_env,
        project,
        tmp_path,
        ARGO_PROGRESS_FILE=str(progress),
        WORKBENCH_OUTPUTS_DIR=str(outputs),
    )
    run = run_workbench("run", "--layer", "silver", env=env)
    assert run.exit_code == 1, run.stderr

    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    lines = [ARGO_PROGRESS.fullmatch(line) for line in progress.read_text().splitlines()]
    assert all(lines)
    pairs = [(int(m[1]), int(m[2])) for m in lines if m]
    # "0/5" when dbt starts, then one line per finished node (skipped ones too), in order
    assert pairs == [(done, len(results)) for done in range(len(results) + 1)]
    assert _argo_progress(progress) == (len(results), len(results))

    values = {name: (outputs / name).read_text() for name in OUTPUT_NAMES}
    by_status = {r["unique_id"]: r["status"] for r in results}
    assert by_status["model.scout_retail.needs_broken"] == "skipped"
    assert values["outcome"] == "failed"
    assert values["models_built"] == "1"  # good; broken errored, its child skipped
    assert values["tests_passed"] == "1"  # unique(id)
    assert values["tests_failed"] == "1"  # not_null(maybe): five nulls
    assert sorted(values["failed_nodes"].split(", ")) == ["broken", "not_null_good_maybe"]


def test_without_argo_variables_nothing_is_written(pg_env: dict[str, str], tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "project", {"models/good.sql": FAILING_FILES["models/good.sql"]}
    )
    run = run_workbench("run", "--layer", "silver", env=runner_env(pg_env, project, tmp_path))
    assert run.exit_code == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs", "project", "target"]


def test_progress_lines_are_what_argo_accepts(tmp_path: Path) -> None:
    assert progress_line(0, 0) is None  # "0/0" fails IsValid (M > 0): never written
    assert progress_line(7, 5) == "5/5\n"  # clamped: N > M would be rejected
    path = tmp_path / "progress"
    reporter = ProgressFile(path)
    reporter.start(3)
    reporter.node_finished()
    assert _argo_progress(path) == (1, 3)


def test_an_unwritable_progress_file_never_raises_into_the_run(tmp_path: Path) -> None:
    reporter = ProgressFile(tmp_path / "missing-dir" / "progress")
    reporter.start(2)  # an OSError here would escape into dbt's event callback
    reporter.node_finished()
    assert reporter.done == 1 and not (tmp_path / "missing-dir").exists()
