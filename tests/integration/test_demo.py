"""`workbench demo` against a configured server (POSTGRES_* set): it must use that server, leave
the tables there and print a summary whose numbers match the database; a server that already
holds data is refused (its rows would be counted and scored as the demo's). Without a server, the
embedded one: its demo database starts empty on every run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.terminal import run_on_terminal
from workbench import cli
from workbench.demo.command import SAMPLE_QUERY, SAMPLE_TOP

pytestmark = pytest.mark.integration


def test_demo_uses_the_configured_server_and_summarises_it(
    pg_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in pg_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    workdir = tmp_path / "demo"

    code = cli.main(["demo", "--workdir", str(workdir), "--transactions", "20000", "--skip-docs"])

    assert code == 0
    assert not (workdir / "pgdata").exists(), "an embedded server was started"
    summary = json.loads((workdir / "summary.json").read_text())
    conninfo = " ".join(
        f"{k}={os.environ[v]}"
        for k, v in {
            "host": "POSTGRES_HOST",
            "port": "POSTGRES_PORT",
            "user": "POSTGRES_USER",
            "password": "POSTGRES_PASSWORD",
            "dbname": "POSTGRES_DB",
        }.items()
    )
    with psycopg.connect(conninfo) as conn:
        silver = conn.execute("select count(*) from silver.silver_validated_transactions")
        assert summary["rows"]["silver.silver_validated_transactions"] == silver.fetchone()[0]
        rejected = dict(
            conn.execute(
                "select rejection_reason, count(*) from silver.silver_rejected_transactions"
                " group by 1"
            ).fetchall()
        )
    assert summary["rejected_by_reason"] == rejected
    assert summary["tests"].get("pass", 0) >= 40
    assert set(summary["tests"]) == {"pass"} or set(summary["tests"]) == {"pass", "warn"}
    assert summary["anomalies"]["injected"] > 0
    assert all(count > 0 for count in summary["rows"].values())
    shown = capsys.readouterr()
    printed = shown.out
    assert "dbt Workbench demo — summary" in printed
    # Debian's PostgreSQL 15 has no pgvector: the run says so once, no search is shown.
    assert shown.err.count("embed.skipped") == 1, shown.err[-2000:]
    assert "workbench search" not in printed
    assert not [name for name in summary["rows"] if name.startswith("platinum_vectors.")]
    assert f"{summary['rows']['silver.silver_validated_transactions']:,}" in printed

    # Again, on the database that now holds the first demo's data: refused, nothing touched.
    again = cli.main(["demo", "--workdir", str(workdir), "--transactions", "5000", "--seed", "7"])

    assert again == 3  # ExitCode.CONFIGURATION_ERROR: a person must choose another database
    assert json.loads((workdir / "summary.json").read_text()) == summary, "summary rewritten"
    with psycopg.connect(conninfo) as conn:
        raw = conn.execute("select count(*) from raw.transactions").fetchone()
    assert raw is not None
    assert raw[0] == summary["rows"]["raw.transactions"]
    refusal = capsys.readouterr().err
    assert "demo.database_not_empty" in refusal
    assert "raw.transactions" in refusal and "POSTGRES_DB" in refusal


def _laptop_env(tmp_path: Path) -> dict[str, str]:
    """A person's shell: no POSTGRES_*, no XDG_RUNTIME_DIR (as on many servers), dbt output in
    the test's directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POSTGRES_", "WORKBENCH_", "DBT_")) and key != "XDG_RUNTIME_DIR"
    }
    env["DBT_TARGET_PATH"] = str(tmp_path / "target")
    env["DBT_LOG_PATH"] = str(tmp_path / "logs")
    return env


def _demo(*args: str) -> list[str]:
    return [sys.executable, "-m", "workbench.cli", "demo", *args]


# What a person reads: the steps, a line per ingest, one per layer, the embed, one sample search,
# the summary (about 60 lines). Before, the run alone printed one line per dbt node (132 here).
MAX_DEMO_LINES = 90  # console lines wrap at 100 columns
LAYER_LINE = re.compile(r"^  (seeds|bronze|silver|gold|platinum) +\d+ built .* s$")


@pytest.fixture()
def laptop_dir() -> Iterator[Path]:
    """A directory pgserver can use when the test runs as root: it then runs the server as its
    own system user, which must be able to enter every parent (pytest's tmp_path is 0700)."""
    root = Path(tempfile.mkdtemp(prefix="workbench-demo-"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_demo_without_a_configured_server_runs_on_an_embedded_one(laptop_dir: Path) -> None:
    """The laptop path of `make demo` on a terminal: pgserver under the work directory, short
    console lines with one per layer (no per-node JSON, no runtime-directory warning), the
    static docs page, then the server is stopped (its data kept). Run again with other data and
    piped, the embedded demo database starts empty: nothing of the first run is counted."""
    env, workdir = _laptop_env(laptop_dir), laptop_dir / "demo"
    target = laptop_dir / "target"

    shown = run_on_terminal(
        _demo("--workdir", str(workdir), "--transactions", "20000"), env, timeout=600
    )

    lines = shown.lines()
    assert shown.exit_code == 0, "\n".join(lines)
    assert len(lines) <= MAX_DEMO_LINES, "\n".join(lines)
    assert not [line for line in lines if line.lstrip().startswith("{")], "JSON on a terminal"
    assert not [line for line in lines if "Warning" in line], "\n".join(lines)
    layers = [LAYER_LINE.match(line).group(1) for line in lines if LAYER_LINE.match(line)]
    assert layers == ["seeds", "bronze", "silver", "gold", "platinum"], "\n".join(lines)
    assert (workdir / "pgdata" / "PG_VERSION").exists()
    assert not (workdir / "pgdata" / "postmaster.pid").exists(), "embedded server left running"
    first = json.loads((workdir / "summary.json").read_text())
    assert first["rows"]["gold.gold_category_trends"] > 0
    assert first["docs_path"] == str(target / "static_index.html")
    assert any(line.startswith(f"Docs: {target / 'static_index.html'} ") for line in lines)
    assert "<html" in (target / "static_index.html").read_text().lower()
    assert "Embedded PostgreSQL stopped" in lines[-1]
    # pgserver has pgvector: the platinum build embedded, and one search is shown with the
    # in-package model's answer (its top 5 for the query are instant noodles).
    assert first["rows"]["platinum_vectors.product_vectors"] > 0
    assert first["rows"]["platinum_vectors.transaction_vectors"] > 0
    start = lines.index(f"workbench search {SAMPLE_QUERY!r} --top {SAMPLE_TOP}")
    shown_results = lines[start + 2 : start + 2 + SAMPLE_TOP]
    assert sum("Instant Noodles" in line for line in shown_results) >= 4, "\n".join(lines)

    piped = subprocess.run(
        _demo("--workdir", str(workdir), "--transactions", "5000", "--seed", "7", "--skip-docs"),
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    assert piped.returncode == 0, piped.stderr
    printed = (piped.stdout + piped.stderr).splitlines()
    assert len(printed) <= MAX_DEMO_LINES, "\n".join(printed)
    assert not [line for line in printed if "Warning" in line or line.startswith("{")]
    second = json.loads((workdir / "summary.json").read_text())
    generated = sum(
        path.read_bytes().count(b"\n") for path in (workdir / "data").glob("transactions-*")
    )
    landed = second["rows"]["raw.transactions"] + second["rows"]["raw.ingest_errors"]
    assert landed == generated < first["rows"]["raw.transactions"]


def _option_help(usage: str) -> dict[str, str]:
    """argparse's options block: each option with its help text (inline or on the lines below)."""
    helps: dict[str, str] = {}
    current = ""
    for line in usage.split("options:", 1)[1].splitlines():
        entry = re.match(r"^  (-[-\w]+(?:, --[-\w]+)?)(?: [A-Z_]+| \{[\w,]+\})?(?:  +(.*))?$", line)
        if entry:
            current = entry.group(1).split(", ")[-1]
            helps[current] = (entry.group(2) or "").strip()
        elif current and line.startswith(" " * 10):
            helps[current] = f"{helps[current]} {line.strip()}".strip()
    return helps


def test_demo_help_is_quiet_and_explains_every_option(tmp_path: Path) -> None:
    """`--help` neither starts nor imports the embedded server (pgserver warned about
    XDG_RUNTIME_DIR on import, and `export XDG_RUNTIME_DIR ?= /tmp` made it warn under make)."""
    for runtime_dir in (None, "/tmp"):  # noqa: S108 - the directory the Makefile exported
        env = _laptop_env(tmp_path)
        if runtime_dir:
            env["XDG_RUNTIME_DIR"] = runtime_dir
        done = subprocess.run(
            _demo("--help"), env=env, capture_output=True, text=True, timeout=60, check=True
        )
        assert done.stderr == ""
        helps = _option_help(done.stdout)
        assert set(helps) >= {"--workdir", "--transactions", "--seed", "--log-format"}
        undocumented = [name for name, text in helps.items() if not text]
        assert undocumented == [], done.stdout
