"""Does the database the demo was pointed at already hold Scout Retail data?

The summary counts whole tables and scores every flagged anomaly against this run's ground
truth, so rows left by another load (another seed, real data) would silently skew it.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from workbench.demo.summary import MODELS_BY_LAYER


def relations_with_rows(conn: psycopg.Connection[Any]) -> list[str]:
    """The demo's relations (raw landing and every layer) that exist and are not empty."""
    found = []
    for schema, relations in MODELS_BY_LAYER.items():
        for relation in relations:
            name = f"{schema}.{relation}"
            row = conn.execute("select to_regclass(%s) is not null", (name,)).fetchone()
            if not (row and row[0]):
                continue
            query = sql.SQL("select exists (select 1 from {}.{})").format(
                sql.Identifier(schema), sql.Identifier(relation)
            )
            holds = conn.execute(query).fetchone()
            if holds and holds[0]:
                found.append(name)
    return found


def refusal_message(database: str, relations: list[str]) -> str:
    return (
        f"the database {database} already holds data ({', '.join(relations)}); the demo "
        "would mix its sample with it and report wrong counts and anomaly scores. Point "
        "POSTGRES_DB at an empty database (e.g. `createdb scout_demo`), or unset POSTGRES_HOST "
        "to use the embedded one, which the demo empties itself"
    )
