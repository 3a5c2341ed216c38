"""Skip a layer run when nothing it reads has changed since its last successful run.

The check runs before dbt is even imported, so an hourly run with nothing new costs a process
start and a few catalog queries. A run's *input fingerprint* is a hash of:

- every relation the layer reads from outside itself (from dbt's manifest: parents of the
  layer's models and seeds; through views to the tables under them), each as its relation
  file node plus PostgreSQL's write counters (pg_stat_user_tables: rows inserted, updated,
  deleted). Counters only grow and count a transaction once it has ended and its backend has
  flushed its statistics (PostgreSQL 15: at most once a second, at the latest when the session
  ends, so a write committed in the last moment before the check is counted by the next run's
  check instead); a rewrite or TRUNCATE gets a new file node; a server restart (counters
  reset) is in the hash too;
- the business day (var business_timezone): rejections that depend on the day are judged
  again on the first run of each day;
- the dbt project's files (models, macros, seeds, tests, dbt_project.yml, selectors.yml) and
  the run's --vars: a code change always builds.

The fingerprint is taken before the build and recorded with the invocation. The run is skipped
when the layer's last run (same selector, not a --select) succeeded with the fingerprint seen
now. Writes that land while a run builds change the counters after its fingerprint was taken,
so the next run builds again: the check can cost an extra build, or delay a write by one
run when its statistics were not yet flushed, but never skips it for good.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml

from workbench.contract import BUSINESS_TIMEZONE, LOCK_ORDER

Connection = psycopg.Connection[tuple[object, ...]]

PROJECT_FILES = ("dbt_project.yml", "selectors.yml")
PROJECT_DIRS_KEYS = {
    "model-paths": ["models"],
    "seed-paths": ["seeds"],
    "macro-paths": ["macros"],
    "test-paths": ["tests"],
    "snapshot-paths": ["snapshots"],
}
PASS_THROUGH = frozenset({"view", "ephemeral"})


class NoBaseline(Exception):
    """Why the inputs cannot be fingerprinted here (the run then builds)."""


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str


def _project_config(project_dir: Path) -> dict[str, Any]:
    loaded = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def code_digest(project_dir: Path) -> str:
    """sha256 over the project's source files (paths and bytes), in a stable order."""
    config = _project_config(project_dir)
    digest = hashlib.sha256()
    files = [project_dir / name for name in PROJECT_FILES]
    for key, default in PROJECT_DIRS_KEYS.items():
        for folder in config.get(key, default):
            files += sorted(p for p in (project_dir / folder).rglob("*") if p.is_file())
    for path in files:
        if path.is_file():
            digest.update(str(path.relative_to(project_dir)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def business_timezone(project_dir: Path, run_vars: Mapping[str, object]) -> str:
    value = run_vars.get("business_timezone")
    if value is None:
        value = _project_config(project_dir).get("vars", {}).get("business_timezone")
    return str(value or BUSINESS_TIMEZONE)


def load_manifest(candidates: Iterable[Path]) -> dict[str, Any]:
    for path in candidates:
        if path.is_file():
            loaded = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                return loaded
    raise NoBaseline("no dbt manifest.json yet (the first run builds)")


def layer_inputs(manifest: Mapping[str, Any], layer: str) -> list[Relation]:
    """Relations outside the layer that its models and seeds read; views are looked through."""
    nodes: dict[str, Any] = {**manifest.get("nodes", {}), **manifest.get("sources", {})}
    members = [
        uid
        for uid, node in nodes.items()
        if node.get("resource_type") in ("model", "seed") and layer in node.get("tags", [])
    ]
    if not members:
        raise NoBaseline(f"no models or seeds tagged {layer!r} in the manifest")
    inputs: set[Relation] = set()
    seen: set[str] = set()
    pending = [p for uid in members for p in nodes[uid].get("depends_on", {}).get("nodes", [])]
    while pending:
        uid = pending.pop()
        if uid in seen or uid in members or uid not in nodes:
            continue
        seen.add(uid)
        node = nodes[uid]
        if node.get("resource_type") == "source":
            inputs.add(Relation(node["schema"], node.get("identifier") or node["name"]))
        elif node.get("config", {}).get("materialized") in PASS_THROUGH:
            pending += node.get("depends_on", {}).get("nodes", [])
        elif node.get("resource_type") in ("model", "seed", "snapshot"):
            inputs.add(Relation(node["schema"], node.get("alias") or node["name"]))
    return sorted(inputs, key=lambda r: (r.schema, r.name))


_STATE_SQL = """
select
    current_setting('track_counts') = 'on',
    pg_postmaster_start_time()::text,
    (now() at time zone %(tz)s)::date::text,
    coalesce(json_agg(json_build_array(
        i.schema_name, i.relation_name,
        pg_relation_filenode(t.relid), t.n_tup_ins, t.n_tup_upd, t.n_tup_del
    ) order by i.schema_name, i.relation_name), '[]'::json)::text
from unnest(%(schemas)s::text[], %(names)s::text[]) as i (schema_name, relation_name)
left join pg_stat_user_tables as t
    on t.schemaname = i.schema_name and t.relname = i.relation_name
"""


def input_fingerprint(
    conn: Connection,
    inputs: list[Relation],
    *,
    timezone: str,
    code: str,
    run_vars: Mapping[str, object],
) -> str:
    row = conn.execute(
        _STATE_SQL,
        {
            "tz": timezone,
            "schemas": [r.schema for r in inputs],
            "names": [r.name for r in inputs],
        },
    ).fetchone()
    if row is None:
        raise NoBaseline("the database returned no state")
    counting, started, business_day, relations = row
    if not counting:
        raise NoBaseline("track_counts is off: PostgreSQL keeps no write counters")
    state = {
        "server_started": started,
        "business_day": business_day,
        "relations": json.loads(str(relations)),
        "code": code,
        "vars": dict(sorted(run_vars.items())),
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()


def last_layer_run(conn: Connection, layer: str) -> tuple[str, bool, str | None] | None:
    """(invocation id, success, input fingerprint) of the layer's last run of its selector."""
    row = conn.execute(
        """
        select invocation_id::text, success, input_fingerprint
        from ops.dbt_invocations
        where layer = %s and selection = %s and not full_refresh
        order by finished_at desc
        limit 1
        """,
        (layer, f"selector:{layer}"),
    ).fetchone()
    if row is None:
        return None
    return str(row[0]), bool(row[1]), None if row[2] is None else str(row[2])


def history_has_fingerprints(conn: Connection) -> bool:
    row = conn.execute(
        "select exists (select 1 from information_schema.columns where table_schema = 'ops'"
        " and table_name = 'dbt_invocations' and column_name = 'input_fingerprint')"
    ).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class Decision:
    fingerprint: str | None  # recorded with the invocation; None when it could not be taken
    skip: bool
    reason: str
    previous_invocation_id: str | None = None


@dataclass(frozen=True)
class UnchangedCheck:
    """Decides, under the layer locks, whether a layer run has anything new to do."""

    project_dir: Path
    manifest_paths: tuple[Path, ...]  # the target's manifest, then the image's pre-parsed one
    force: bool = False  # `--force`: build anyway (the fingerprint is still recorded)

    def decide(
        self, conn: Connection, layer: str, run_vars: Mapping[str, object], *, eligible: bool
    ) -> Decision:
        # A base layer's selector is one dbt tag; `all` and `maintenance` always build.
        if not eligible or layer not in LOCK_ORDER:
            return Decision(None, False, "only a layer's own selector run can be skipped")
        try:
            inputs = layer_inputs(load_manifest(self.manifest_paths), layer)
            fingerprint = input_fingerprint(
                conn,
                inputs,
                timezone=business_timezone(self.project_dir, run_vars),
                code=code_digest(self.project_dir),
                run_vars=run_vars,
            )
        except (NoBaseline, OSError, ValueError, KeyError, psycopg.Error) as exc:
            return Decision(None, False, f"inputs cannot be fingerprinted: {exc}")
        if self.force:
            return Decision(fingerprint, False, "--force")
        last = last_layer_run(conn, layer) if history_has_fingerprints(conn) else None
        if last is None:
            return Decision(fingerprint, False, "no previous run of the layer")
        previous_id, succeeded, previous_fingerprint = last
        if not succeeded:
            return Decision(fingerprint, False, "the previous run failed", previous_id)
        if previous_fingerprint != fingerprint:
            return Decision(fingerprint, False, "inputs changed", previous_id)
        return Decision(fingerprint, True, "nothing new since the last run", previous_id)
