"""Hostile workflow parameters are refused by `workbench run` before dbt starts.

End to end through the console script's `main`: exit 2, an `invalid_parameters` log event,
and neither a dbt invocation nor a database connection (both are spied on). The runtime
room's tests/runtime/test_params.py checks the validators one by one; this checks that the
command really stops before doing anything with such values.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from dbt.cli.main import dbtRunner

from tests.pgcluster import TEST_PASSWORD, free_port
from tests.reliability.support import Database, workbench, workbench_env
from workbench.contract import ExitCode

JINJA = "{{ run_query('drop schema silver cascade') }}"

HOSTILE = {
    "shell command in layer": ["--layer", "silver; rm -rf /"],
    "look-alike layer (Cyrillic s)": ["--layer", "\u0455ilver"],
    "command substitution": ["--layer", "silver", "--select", "$(touch /tmp/pwned)"],
    "backticks": ["--layer", "silver", "--select", "`id`"],
    "pipe": ["--layer", "silver", "--select", "tag:silver | sh"],
    "and-list": ["--layer", "silver", "--select", "tag:silver && curl x"],
    "redirect": ["--layer", "silver", "--exclude", "tag:gold > /etc/passwd"],
    "NUL byte": ["--layer", "silver", "--select", "tag:silver\x00"],
    "fullwidth semicolon": ["--layer", "silver", "--select", "tag:silver\uff1bid"],
    "option smuggled in select": ["--layer", "silver", "--select", "tag:silver --target prod"],
    "option smuggled in exclude": ["--layer", "silver", "--exclude", "--profiles-dir /tmp"],
    "vars smuggled in select": ["--layer", "silver", "--select", "x --vars {a: 1}"],
    "oversized select": ["--layer", "silver", "--select", "tag:silver," * 1000],
    "oversized vars": [
        "--layer",
        "silver",
        "--vars",
        '{"anomaly_z_threshold": ' + "9" * 5000 + "}",
    ],
    "vars key not allowed": ["--layer", "silver", "--vars", '{"target_schema": "public"}'],
    "Jinja in vars": ["--layer", "silver", "--vars", json.dumps({"anomaly_z_threshold": JINJA})],
    "vars not an object": ["--layer", "silver", "--vars", "[1, 2]"],
    "NaN threshold": ["--layer", "silver", "--vars", '{"anomaly_z_threshold": NaN}'],
    "full-refresh with a command": ["--layer", "silver", "--full-refresh", "true; drop"],
    "infinite lock timeout": ["--layer", "silver", "--lock-timeout", "1e999"],
    "negative lock timeout": ["--layer", "silver", "--lock-timeout", "-5"],
}


@pytest.fixture()
def spies(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    calls: dict[str, list[Any]] = {"dbt": [], "connect": []}

    def fake_invoke(self: object, args: list[str], **kwargs: object) -> None:
        calls["dbt"].append(args)
        raise AssertionError("dbt was invoked")

    def fake_connect(*args: object, **kwargs: object) -> None:
        calls["connect"].append(args)
        raise AssertionError("a database connection was opened")

    monkeypatch.setattr(dbtRunner, "invoke", fake_invoke)
    monkeypatch.setattr(psycopg, "connect", fake_connect)
    return calls


@pytest.mark.parametrize("argv", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_parameters_stop_before_dbt_and_the_database(
    argv: list[str],
    spies: dict[str, list[Any]],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # A server that is not there: even an attempt to connect would show up as a failure.
    db = Database(
        {
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(free_port()),
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": TEST_PASSWORD,
            "POSTGRES_DB": "nothing",
            "POSTGRES_SSLMODE": "disable",
        }
    )
    with workbench_env(db, tmp_path):
        code: int
        try:
            code = workbench("run", *argv)
        except SystemExit as exc:  # argparse itself refuses a value that reads as an option
            code = exc.code if isinstance(exc.code, int) else -1
    out = capfd.readouterr()
    text = out.out + out.err
    assert code == ExitCode.CONFIGURATION_ERROR
    assert spies == {"dbt": [], "connect": []}
    assert not (tmp_path / "target").exists(), "dbt wrote artifacts"
    events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    if events:
        assert [e["event"] for e in events] == ["invalid_parameters"], events
    else:
        assert "usage: workbench run" in text, text
    assert TEST_PASSWORD not in text


def test_the_spies_see_a_valid_run_try_to_connect(
    spies: dict[str, list[Any]], tmp_path: Path
) -> None:
    """Control: with valid parameters the same command does reach for the database."""
    db = Database(
        {
            "POSTGRES_HOST": "127.0.0.1",
            "POSTGRES_PORT": str(free_port()),
            "POSTGRES_USER": "postgres",
            "POSTGRES_PASSWORD": TEST_PASSWORD,
            "POSTGRES_DB": "nothing",
            "POSTGRES_SSLMODE": "disable",
        }
    )
    with workbench_env(db, tmp_path), contextlib.suppress(AssertionError):
        workbench("run", "--layer", "silver", "--select", "tag:silver", "--lock-timeout", "1")
    assert spies["connect"] or spies["dbt"]
