"""What the demo prints at the end: rows per layer, rejections, tests, anomalies."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from workbench.demo.scoring import AnomalyKey, AnomalyScore

MODELS_BY_LAYER: dict[str, tuple[str, ...]] = {
    "raw": ("transactions", "products", "ingest_errors"),
    "bronze": ("bronze_transactions", "bronze_products"),
    "silver": ("silver_validated_transactions", "silver_rejected_transactions", "silver_products"),
    "gold": ("gold_monthly_summary", "gold_category_trends"),
    "platinum": ("platinum_transaction_embeddings", "platinum_product_recommendations"),
}

# `workbench embed`'s tables: counted only where they exist (a server with pgvector).
VECTOR_TABLES: tuple[str, ...] = (
    "platinum_vectors.product_vectors",
    "platinum_vectors.transaction_vectors",
)

# How a user serves the docs after the demo; the README says the same.
DOCS_SERVE_COMMAND = "make docs"


@dataclass
class DemoSummary:
    rows: dict[str, int] = field(default_factory=dict)
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    tests: dict[str, int] = field(default_factory=dict)
    anomalies: AnomalyScore | None = None
    docs_path: str = ""
    elapsed_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        anomalies = None
        if self.anomalies is not None:
            anomalies = {
                "injected": self.anomalies.injected,
                "flagged": self.anomalies.flagged,
                "true_positives": self.anomalies.true_positives,
                "recall": round(self.anomalies.recall, 4),
                "precision": round(self.anomalies.precision, 4),
            }
        return {
            "rows": self.rows,
            "rejected_by_reason": self.rejected_by_reason,
            "tests": self.tests,
            "anomalies": anomalies,
            "docs_path": self.docs_path,
            "elapsed_seconds": round(self.elapsed_seconds, 1),
        }


def count_rows(conn: psycopg.Connection[Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for schema, relations in MODELS_BY_LAYER.items():
        for relation in relations:
            query = sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(schema), sql.Identifier(relation)
            )
            row = conn.execute(query).fetchone()
            counts[f"{schema}.{relation}"] = int(row[0]) if row else 0
    for table in VECTOR_TABLES:
        present = conn.execute("select to_regclass(%s) is not null", (table,)).fetchone()
        if present and present[0]:
            schema, relation = table.split(".")
            query = sql.SQL("select count(*) from {}.{}").format(
                sql.Identifier(schema), sql.Identifier(relation)
            )
            row = conn.execute(query).fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


def rejected_by_reason(conn: psycopg.Connection[Any]) -> dict[str, int]:
    rows = conn.execute(
        "select rejection_reason, count(*) from silver.silver_rejected_transactions"
        " group by 1 order by 2 desc, 1"
    ).fetchall()
    return {str(reason): int(count) for reason, count in rows}


def flagged_anomalies(conn: psycopg.Connection[Any]) -> set[AnomalyKey]:
    rows = conn.execute(
        "select category, week_start::date from gold.gold_category_trends where is_anomaly"
    ).fetchall()
    return {(str(category), week) for category, week in rows if isinstance(week, date)}


def test_results(run_results: Path) -> dict[str, int]:
    """Tally dbt test statuses (pass / fail / warn / error) from a run_results.json."""
    if not run_results.exists():
        return {}
    data = json.loads(run_results.read_text())
    tally: dict[str, int] = {}
    for result in data.get("results", []):
        if str(result.get("unique_id", "")).startswith(("test.", "unit_test.")):
            status = str(result.get("status"))
            tally[status] = tally.get(status, 0) + 1
    return tally


def render(summary: DemoSummary) -> str:
    lines = ["", "dbt Workbench demo — summary", "=" * 60, "Rows per layer:"]
    for name, count in summary.rows.items():
        lines.append(f"  {name:<48} {count:>10,}")
    lines.append("Rejected by silver (primary reason):")
    for reason, count in summary.rejected_by_reason.items() or {"(none)": 0}.items():
        lines.append(f"  {reason:<48} {count:>10,}")
    tests = ", ".join(f"{count} {status}" for status, count in sorted(summary.tests.items()))
    lines.append(f"dbt tests: {tests or 'none ran'}")
    if summary.anomalies is not None:
        a = summary.anomalies
        lines.append(
            f"Anomalies: {a.flagged} flagged, {a.injected} injected, {a.true_positives} matched "
            f"(recall {a.recall:.0%}, precision {a.precision:.0%})"
        )
    if summary.docs_path:
        lines.append(f"Docs: {summary.docs_path} (one file: open it in a browser)")
        lines.append(f"  or browse them served: {DOCS_SERVE_COMMAND}")
    else:
        lines.append("Docs: not generated (--skip-docs)")
    lines.append(f"Elapsed: {summary.elapsed_seconds:.0f} s")
    return "\n".join(lines)
