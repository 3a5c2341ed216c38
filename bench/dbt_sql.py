"""The SQL dbt sent for model nodes, read back from dbt's JSON debug log, as a psql script.

The transform floor replays exactly these statements through psql: dbt's own compiled SQL
(create / insert / rename / index post-hooks), minus dbt's catalogue introspection (plain
`select`s), which is the work a hand-written script would not do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

_LEADING_COMMENT = re.compile(r"^\s*/\*.*?\*/\s*", re.DOTALL)
_INTROSPECTION = ("select", "with", "show")


def recorded_model_statements(log_file: Path) -> list[str]:
    """Statements of `model.` nodes in the order dbt issued them (dbt.log, JSON format)."""
    statements: list[str] = []
    with log_file.open() as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("info", {}).get("name") != "SQLQuery":
                continue
            data = event.get("data", {})
            node = data.get("node_info", {}).get("unique_id", "")
            sql = data.get("sql", "")
            body = _LEADING_COMMENT.sub("", sql, count=1).lstrip().lower()
            # dbt creates the layer schemas up front, outside any node.
            if not node.startswith("model.") and not body.startswith("create schema"):
                continue
            if body.startswith(_INTROSPECTION) or not body:
                continue
            statements.append(sql.strip().rstrip(";"))
    return statements


def write_replay_script(statements: list[str], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{statement}\n;\n" for statement in statements))
    return path
