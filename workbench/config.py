"""Settings read once from the environment: the connection names the seed uses."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workbench.contract import SESSION_TIMEZONE

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class PostgresSettings:
    host: str = "localhost"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    dbname: str = "postgres"
    sslmode: str = "prefer"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PostgresSettings:
        env = os.environ if env is None else env
        port_text = env.get("POSTGRES_PORT", "5432")
        if not port_text.isdigit():
            raise ConfigError(f"POSTGRES_PORT must be a number, got {port_text!r}")
        return cls(
            host=env.get("POSTGRES_HOST", "localhost"),
            port=int(port_text),
            user=env.get("POSTGRES_USER", "postgres"),
            password=env.get("POSTGRES_PASSWORD", ""),
            dbname=env.get("POSTGRES_DB", "postgres"),
            sslmode=env.get("POSTGRES_SSLMODE", "prefer"),
        )

    @staticmethod
    def configured(env: Mapping[str, str] | None = None) -> bool:
        """True when the caller named a server (POSTGRES_HOST is set)."""
        env = os.environ if env is None else env
        return bool(env.get("POSTGRES_HOST"))

    def conninfo(self) -> str:
        """A libpq keyword string. Contains the password: never log it."""
        parts = {
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "password": self.password,
            "dbname": self.dbname,
            "sslmode": self.sslmode,
            "application_name": "dbt-workbench",
            # Timestamps read and written in UTC, whatever the server's `timezone` setting.
            "options": f"-c TimeZone={SESSION_TIMEZONE}",
        }
        return " ".join(f"{k}={_quote(v)}" for k, v in parts.items() if v != "")

    def as_env(self) -> dict[str, str]:
        """The POSTGRES_* variables that dbt's profiles.yml reads."""
        return {
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_DB": self.dbname,
            "POSTGRES_SSLMODE": self.sslmode,
        }

    def describe(self) -> str:
        """Where we connect, safe to log (no password)."""
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def dbt_project_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("DBT_PROJECT_DIR", str(PROJECT_ROOT / "dbt")))


def resolve_target_path(explicit: Path | None, project_dir: Path, env: Mapping[str, str]) -> Path:
    """The target path dbt will write: --target-path, then DBT_TARGET_PATH, then dbt/target."""
    if explicit is not None:
        return explicit
    from_env = env.get("DBT_TARGET_PATH")
    if from_env:
        path = Path(from_env)
        return path if path.is_absolute() else project_dir / path
    return project_dir / "target"


def resolve_log_path(project_dir: Path, env: Mapping[str, str]) -> Path:
    """The directory of dbt's log file: DBT_LOG_PATH, else dbt/logs."""
    from_env = env.get("DBT_LOG_PATH")
    return Path(from_env) if from_env else project_dir / "logs"
