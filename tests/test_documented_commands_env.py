"""README.md and docs/ write commands for the activated .venv, never through `uv run`.

uv lives wherever scripts/ensure-uv.sh put it (`~/.local/bin`), which only the Makefile puts on
PATH; a user's shell may not have it. So a documented command names a program of the .venv
(`source .venv/bin/activate`, README Quick start) or a system one, never `uv`.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?:bash|sh|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)
VENV_PROGRAMS = {"workbench", "dbt", "pytest", "python", "hadolint", "checkov"}


def _command_words(text: str) -> list[str]:
    words = []
    for block in FENCE.findall(text):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            words.append(line.split()[0])
    return words


def test_no_documented_command_runs_through_uv() -> None:
    offenders = {
        doc.name: word
        for doc in DOCUMENTS
        for word in _command_words(doc.read_text(encoding="utf-8"))
        if word in {"uv", "uvx"}
    }
    assert offenders == {}


def test_the_programs_the_docs_name_are_in_the_venv() -> None:
    named = {
        word
        for doc in DOCUMENTS
        for word in _command_words(doc.read_text(encoding="utf-8"))
        if word in VENV_PROGRAMS
    }
    assert {"workbench", "dbt", "pytest"} <= named
    bindir = REPO_ROOT / ".venv" / "bin"
    assert {p for p in named if not (bindir / p).exists()} == set()
