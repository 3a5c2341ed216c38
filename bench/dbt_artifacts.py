"""What dbt itself reports about a run: model execution time and when it started logging."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path


def model_seconds(target_dir: Path) -> float:
    """Sum of `execution_time` of the model nodes in target/run_results.json (SQL time, no
    process start-up, parsing or tests)."""
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    return float(sum(r["execution_time"] for r in results if r["unique_id"].startswith("model.")))


def first_log_event_at(log_file: Path) -> float | None:
    """Epoch seconds of dbt's first JSON log event: Python and dbt are imported by then."""
    with log_file.open() as handle:
        for line in handle:
            try:
                stamp = json.loads(line)["info"]["ts"]
            except (ValueError, KeyError):
                continue
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    return None


def seconds_by_kind(target_dir: Path) -> dict[str, float]:
    """dbt's execution_time summed per kind of node: models (and seeds) vs data/unit tests."""
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    totals = {"models": 0.0, "tests": 0.0}
    for result in results:
        kind = result["unique_id"].split(".", 1)[0]
        if kind in ("model", "seed", "snapshot"):
            totals["models"] += float(result["execution_time"])
        elif kind in ("test", "unit_test"):
            totals["tests"] += float(result["execution_time"])
    return totals
