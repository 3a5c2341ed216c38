"""An embedded PostgreSQL (PyPI `pgserver`) for machines with no database configured."""

from __future__ import annotations

from pathlib import Path

from pgserver import postgres_server

from workbench.config import PostgresSettings


def start_embedded(pgdata: Path) -> tuple[PostgresSettings, postgres_server.PostgresServer]:
    """Start (or reuse) a server in ``pgdata``; returns settings and the handle keeping it alive.

    pgserver listens on a Unix socket only, with trust authentication, so the settings carry the
    socket directory as host and no password.
    """
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = postgres_server.get_server(pgdata.resolve(), cleanup_mode="stop")
    info = server.get_postmaster_info()
    settings = PostgresSettings(
        host=str(info.socket_dir),
        port=int(info.port or 5432),
        user="postgres",
        password="",
        dbname="postgres",
        sslmode="disable",
    )
    return settings, server
