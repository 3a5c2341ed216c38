"""PostgreSQL connections for the runtime (psycopg 3)."""

from __future__ import annotations

import psycopg

from workbench.config import PostgresSettings


def connect(
    settings: PostgresSettings, *, autocommit: bool = False
) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(settings.conninfo(), autocommit=autocommit)
