"""A throwaway PostgreSQL cluster for tests and local development.

Uses the real server binaries: `postgres` on PATH, then /usr/lib/postgresql/*/bin, then the
binaries bundled by the PyPI package `pgserver`. PostgreSQL refuses to run as root, so when the
caller is root the cluster is initialised and run as the `postgres` system user.

    python -m tests.pgcluster start --dir /tmp/pgdev --port 55432   # prints export lines
    python -m tests.pgcluster stop --dir /tmp/pgdev
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TEST_PASSWORD = "s3cr3t-Test-Passw0rd"  # noqa: S105 - a throwaway cluster; tests grep logs for it


def find_bindir(*, pgvector: bool = False) -> Path:
    """The first server binaries found; with `pgvector`, the first whose installation has the
    pgvector extension (Debian's PostgreSQL 15 has none; pgserver's 16 bundles 0.6.2)."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).parent] if on_path else []
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for bindir in itertools.chain(candidates, _bundled_bindir()):
        server = (bindir / "initdb").exists() and (bindir / "postgres").exists()
        if server and (not pgvector or _has_pgvector(bindir)):
            return bindir
    raise RuntimeError(
        "No PostgreSQL server binaries found"
        + (" with the pgvector extension" if pgvector else "")
        + ". Install them (apt-get install postgresql-15) or run `uv sync` so the bundled "
        "`pgserver` binaries (PostgreSQL 16 with pgvector) are available."
    )


def _bundled_bindir() -> Iterator[Path]:
    try:
        # Last, and only then imported: importing pgserver reads (and warns about) the runtime dir.
        import pgserver
    except ImportError:
        return
    yield Path(pgserver.__file__).parent / "pginstall" / "bin"


def _has_pgvector(bindir: Path) -> bool:
    if not (bindir / "pg_config").exists():
        return False
    found = subprocess.run(
        [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
    )
    return (
        found.returncode == 0
        and (Path(found.stdout.strip()) / "extension" / "vector.control").exists()
    )


def server_os_user() -> str:
    """The system user that owns and runs the cluster when we are root: `postgres` where the
    Debian package made it, else a system user created for the purpose."""
    for name in ("postgres", "workbench-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "workbench-pg"],
        check=True,
    )
    return "workbench-pg"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    datadir: Path
    port: int
    user: str = "postgres"
    password: str = TEST_PASSWORD
    bindir: Path | None = None  # the server binaries; find_bindir() when not given

    def _as_owner(self, cmd: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", server_os_user(), "--", *cmd]
        return cmd

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(server_os_user())
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self) -> None:
        bindir = self.bindir or find_bindir()
        self.datadir.mkdir(parents=True, exist_ok=True)
        self._chown(self.datadir)
        self.datadir.chmod(0o700)
        if not (self.datadir / "PG_VERSION").exists():
            pwfile = self.datadir.parent / f".{self.datadir.name}.pw"
            pwfile.write_text(self.password + "\n")
            self._chown(pwfile)
            subprocess.run(
                self._as_owner(
                    [
                        str(bindir / "initdb"),
                        "-D",
                        str(self.datadir),
                        "-U",
                        self.user,
                        "--pwfile",
                        str(pwfile),
                        "--auth",
                        "scram-sha-256",
                        "-E",
                        "UTF8",
                        "--locale",
                        "C",
                    ]
                ),
                check=True,
                stdout=subprocess.DEVNULL,
            )
            pwfile.unlink()
            with (self.datadir / "postgresql.conf").open("a") as conf:
                conf.write(
                    "\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                    "max_connections = 200\nshared_buffers = 256MB\n"
                    f"unix_socket_directories = '{self.datadir}'\n"
                )
        subprocess.run(
            self._as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(self.datadir),
                    "-w",
                    "-t",
                    "60",
                    "-l",
                    str(self.datadir / "server.log"),
                    "-o",
                    f"-p {self.port} -h 127.0.0.1",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def stop(self, mode: str = "fast") -> None:
        bindir = self.bindir or find_bindir()
        subprocess.run(
            self._as_owner(
                [str(bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def restart(self) -> None:
        self.stop("immediate")
        time.sleep(0.5)
        self.start()

    def env(self, dbname: str = "postgres") -> dict[str, str]:
        return {
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
            "POSTGRES_DB": dbname,
            "POSTGRES_SSLMODE": "disable",
        }


@contextlib.contextmanager
def temporary_cluster(
    prefix: str, parent: Path | None = None, *, pgvector: bool = False
) -> Iterator[PostgresCluster]:
    """A started cluster in a new temporary directory; stopped and deleted on exit. With
    `pgvector`, from server binaries that have the pgvector extension."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    os.chmod(root, 0o755)  # noqa: S103 - the server runs as another user and must enter it
    cluster = PostgresCluster(root / "data", free_port(), bindir=find_bindir(pgvector=pgvector))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def temporary_database(cluster: PostgresCluster, prefix: str) -> Iterator[dict[str, str]]:
    """POSTGRES_* settings for a new empty database on `cluster`, dropped (forced) on exit."""
    import psycopg  # here, not at the top: `python -m tests.pgcluster` runs without it

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = cluster.env()
    conninfo = (
        f"host={admin['POSTGRES_HOST']} port={admin['POSTGRES_PORT']} "
        f"user={admin['POSTGRES_USER']} password={admin['POSTGRES_PASSWORD']} dbname=postgres"
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"'.encode())
    try:
        yield cluster.env(name)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", default="/tmp/workbench-pgdev")  # noqa: S108 - a dev scratch cluster
    parser.add_argument("--port", type=int, default=55432)
    args = parser.parse_args()
    cluster = PostgresCluster(Path(args.dir) / "data", args.port)
    if args.action == "start":
        Path(args.dir).mkdir(parents=True, exist_ok=True)
        os.chmod(args.dir, 0o755)  # noqa: S103 - the server runs as another user and must enter it
        cluster.start()
        for key, value in cluster.env().items():
            print(f"export {key}={value}")
    else:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
