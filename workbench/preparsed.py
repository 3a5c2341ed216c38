"""The dbt manifest parsed at image build time, reused by every dbt invocation in a pod.

Build (the Dockerfile runs it): ``python -m workbench.preparsed OUT_DIR`` runs ``dbt parse``
with its target path set to OUT_DIR and records what that parse depended on in
``OUT_DIR/preparsed.json``.

Runtime: the image sets ``DBT_PARTIAL_PARSE_FILE_PATH=OUT_DIR/partial_parse.msgpack``. dbt
reads the saved parse from there (read-only is fine) and writes any new parse into its own
target path (an emptyDir), so nothing has to be copied at start-up and nothing to wire into
callers. dbt reuses the saved parse only when the dbt version, the command-line ``--vars``,
the env vars read by ``dbt_project.yml`` and the connection identity (host, port, user,
database, schema, sslmode; not the password) equal the build's; otherwise it parses in full,
which is correct, just slower. ``reuse_blockers()`` predicts that so a pod can say why.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from workbench.config import PostgresSettings, dbt_project_dir
from workbench.contract import ExitCode
from workbench.dbt_cli import invoke, project_args

PARTIAL_PARSE_ENV = "DBT_PARTIAL_PARSE_FILE_PATH"
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
MARKER = "preparsed.json"


class PreparseError(RuntimeError):
    pass


def connection_identity(env: Mapping[str, str]) -> dict[str, str]:
    """What of the profile dbt hashes into its parse state, with profiles.yml's defaults."""
    settings = PostgresSettings.from_env(env)
    return {
        # dbt hashes --target / DBT_TARGET as given (unset differs from "default").
        "target": env.get("DBT_TARGET", ""),
        "host": settings.host,
        "port": str(settings.port),
        "user": settings.user,
        "dbname": settings.dbname,
        "sslmode": settings.sslmode,
    }


def parse_args(project_dir: Path, out_dir: Path) -> list[str]:
    return ["parse", *project_args(project_dir), "--target-path", str(out_dir)]


def build(project_dir: Path, out_dir: Path, env: Mapping[str, str]) -> Path:
    """Parse the project into out_dir (no database needed); return the partial-parse file."""
    from dbt.version import __version__ as dbt_version

    result = invoke(parse_args(project_dir, out_dir))
    saved = out_dir / PARTIAL_PARSE_FILE
    if not result.success or not saved.is_file():
        raise PreparseError(f"dbt parse of {project_dir} failed: {result.exception}")
    marker = {"dbt_version": dbt_version, "connection": connection_identity(env)}
    (out_dir / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    return saved


def reuse_blockers(env: Mapping[str, str]) -> list[str]:
    """Why dbt will not reuse the pre-parsed manifest here; empty when it will."""
    from dbt.version import __version__ as dbt_version

    path_text = env.get(PARTIAL_PARSE_ENV, "")
    if not path_text:
        return [f"{PARTIAL_PARSE_ENV} is not set"]
    marker_path = Path(path_text).parent / MARKER
    if not Path(path_text).is_file() or not marker_path.is_file():
        return [f"no pre-parsed manifest at {path_text}"]
    marker = json.loads(marker_path.read_text())
    blockers = []
    if marker.get("dbt_version") != dbt_version:
        blockers.append(f"built with dbt {marker.get('dbt_version')}, running dbt {dbt_version}")
    built_for: dict[str, str] = marker.get("connection", {})
    here = connection_identity(env)
    changed = sorted(key for key in here if built_for.get(key) != here[key])
    if changed:
        blockers.append(
            "connection settings differ from the image build in "
            + ", ".join(changed)
            + " (rebuild the image with matching --build-arg values to skip the parse)"
        )
    return blockers


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m workbench.preparsed OUT_DIR", file=sys.stderr)
        return int(ExitCode.CONFIGURATION_ERROR)
    out_dir = Path(args[0]).resolve()
    try:
        saved = build(dbt_project_dir(), out_dir, os.environ)
    except PreparseError as exc:
        print(str(exc), file=sys.stderr)
        return int(ExitCode.FAILURE)
    print(f"pre-parsed manifest written to {saved}")
    return int(ExitCode.SUCCESS)


if __name__ == "__main__":
    sys.exit(main())
