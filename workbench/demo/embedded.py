"""An embedded PostgreSQL (PyPI `pgserver`) for machines with no database configured."""

from __future__ import annotations

import os
import stat
from collections.abc import MutableMapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from psycopg import sql

from workbench.config import PostgresSettings
from workbench.db import connect

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer

# The demo's own database inside the embedded cluster: recreated empty by every demo, so a
# second `make demo` (another --seed or --transactions) never mixes its data with the first.
DEMO_DATABASE = "scout_demo"
_RUNTIME_DIR_ENV = "XDG_RUNTIME_DIR"


def private_runtime_dir(workdir: Path, env: MutableMapping[str, str]) -> None:
    """Give pgserver a runtime directory platformdirs accepts (ours, mode 0700).

    pgserver asks platformdirs for the user runtime directory when it is imported (for its lock
    file); platformdirs warns and falls back when XDG_RUNTIME_DIR is unset or, like /tmp, not
    private. A usable XDG_RUNTIME_DIR is kept; otherwise one under the work directory is used.
    """
    current = env.get(_RUNTIME_DIR_ENV, "")
    if current and _is_private_dir(Path(current)):
        return
    runtime = workdir / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env[_RUNTIME_DIR_ENV] = str(runtime)


def _is_private_dir(path: Path) -> bool:
    try:
        info = path.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and stat.S_IMODE(info.st_mode) == 0o700
    )


def start_embedded(workdir: Path) -> tuple[PostgresSettings, PostgresServer]:
    """Start (or reuse) a server in ``workdir/pgdata`` with an empty demo database.

    pgserver listens on a Unix socket only, with trust authentication, so the settings carry the
    socket directory as host and no password.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    private_runtime_dir(workdir, os.environ)
    from pgserver import postgres_server  # imported here: it reads XDG_RUNTIME_DIR on import

    server = postgres_server.get_server((workdir / "pgdata").resolve(), cleanup_mode="stop")
    info = server.get_postmaster_info()
    admin = PostgresSettings(
        host=str(info.socket_dir),
        port=int(info.port or 5432),
        user="postgres",
        password="",
        dbname="postgres",
        sslmode="disable",
    )
    with connect(admin, autocommit=True) as conn:
        name = sql.Identifier(DEMO_DATABASE)
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(name))
        conn.execute(sql.SQL("create database {}").format(name))
    return replace(admin, dbname=DEMO_DATABASE), server
