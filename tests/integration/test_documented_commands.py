"""Every command README.md and docs/*.md show in a ```bash block is exercised here.

Each documented command line is in exactly one of the tables below (a new line in the docs
without an entry fails `test_every_documented_command_has_a_check`):

- RUN: run as written, in a bash shell with the .venv's programs first on PATH (the activated
  venv the README asks for), from the repository root, against a throwaway PostgreSQL, with S3
  served by moto over HTTP. Only paths that would write into the checkout or into a shared /tmp
  are moved into the test's directory (SANDBOX_PATHS), nothing else is changed.
- COVERED: run, in the same shape, by the named test (it needs a scenario: a failing test,
  a placeholder id, a process that serves until stopped, or it is the suite itself).
- NO_CLUSTER: needs a Kubernetes API server, an Argo controller or skaffold, which cannot run
  on these machines. Checked as strictly as possible instead: `helm install/upgrade` become
  `helm template` with the same arguments; `kubectl create secret` runs with
  `--dry-run=client`; `argo submit --from …` must name a template and parameters (with an
  allowed value) that the rendered chart has; skaffold profiles must exist in skaffold.yaml;
  `kubectl apply -f` files must be Argo CD Applications.
- HEAVY: would take longer than the whole suite (benchmarks at scale, a container build
  without docker): their flags are checked against the program's own parser or file.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import yaml

from tests.pgcluster import PostgresCluster, temporary_database
from workbench.config import PROJECT_ROOT

pytestmark = pytest.mark.integration

DOCUMENTS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(?:bash|sh)\n(.*?)^```", re.MULTILINE | re.DOTALL)
VENV_BIN = Path(sys.executable).parent
HELM = PROJECT_ROOT / ".tools" / "bin" / "helm"
KUBECTL = PROJECT_ROOT / ".tools" / "bin" / "kubectl"
COMMAND_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Documented:
    document: str
    line: int
    command: str  # continuation lines joined, trailing comment dropped


def _strip_comment(line: str) -> str:
    """The line without a trailing `# …` comment (a # inside quotes is kept)."""
    quote: str | None = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def documented_commands() -> list[Documented]:
    found = []
    for doc in DOCUMENTS:
        text = doc.read_text(encoding="utf-8")
        for block in FENCE.finditer(text):
            first_line = text[: block.start()].count("\n") + 2
            pending, start = "", 0
            for offset, raw in enumerate(block.group(1).splitlines()):
                line = _strip_comment(raw) if not pending else raw.rstrip()
                if not pending:
                    start = first_line + offset
                if not line.strip() and not pending:
                    continue
                if line.endswith("\\"):
                    pending += line[:-1].strip() + " "
                    continue
                command = " ".join((pending + _strip_comment(line)).split())
                pending = ""
                if command:
                    found.append(Documented(doc.name, start, command))
    return found


# --- RUN: executed as written, in this order (later commands read what earlier ones wrote) ---

SANDBOX_PATHS = {
    # README "Data in": a fixed /tmp path, shared with anything else on the machine.
    "/tmp/scout": "{sandbox}/scout",  # noqa: S108 - the documented path, replaced
    # docs/data.md: the demo's own directory in the checkout.
    ".demo/data": "{sandbox}/demo-data",
    # docs/image.md: another fixed /tmp path.
    "/tmp/docs": "{sandbox}/docs",  # noqa: S108 - the documented path, replaced
    # README "Data in": the same command at a tenth of the volume; the eight dbt builds below
    # would otherwise cost minutes of `make test` (the volume is what docs/bench.md measures).
    "--transactions 50000": "--transactions 5000",
}

RUN: tuple[str, ...] = (
    # README.md
    "make setup && source .venv/bin/activate",
    "workbench --help",
    "workbench sample-data --out /tmp/scout --transactions 50000",
    "workbench ingest /tmp/scout/products.jsonl --entity products",
    "workbench ingest '/tmp/scout/transactions-*.jsonl' --entity transactions",
    "workbench run --layer all",
    # docs/data-model.md
    "workbench run --layer gold --vars '{\"anomaly_z_threshold\": 2.5}'",
    "cd dbt",
    "dbt parse --profiles-dir .",
    "dbt ls --profiles-dir . --selector maintenance",
    "dbt build --profiles-dir . --selector silver",
    "dbt build --profiles-dir . --full-refresh",
    "dbt source freshness --profiles-dir .",
    'cd "$(git rev-parse --show-toplevel)"',
    # docs/operate.md
    "workbench run --layer silver",
    'workbench run --layer silver --vars \'{"test_scope": "full"}\'',
    "workbench run --layer all --full-refresh",
    "workbench run --layer silver --select 'silver_products+' --lock-timeout 60",
    # docs/image.md: a run's artifacts as state (here the run just above; the page fetches a
    # gold run's from S3)
    'dbt retry --project-dir dbt --profiles-dir dbt --state "$PWD/state"',
    'dbt build --project-dir dbt --profiles-dir dbt --select state:modified+ --state "$PWD/state"',
    # docs/image.md
    "workbench docs",
    "workbench docs --publish s3://my-bucket/scout-docs",
    "workbench docs --no-static --target-path /tmp/docs --publish s3://my-bucket/scout-docs"
    " --version-id 2026-11-25-nightly",
    "hadolint images/dbt-runtime/Dockerfile",
    "checkov -f images/dbt-runtime/Dockerfile --framework dockerfile --skip-download --quiet"
    " --compact",
    # docs/deploy.md
    "make chart",
    ".tools/bin/helm template dbt-workbench charts/dbt-workbench -f deploy/values-prod.yaml"
    " --api-versions monitoring.coreos.com/v1 --api-versions argoproj.io/v1alpha1/EventSource"
    " --api-versions argoproj.io/v1alpha1/Sensor",
    # docs/bench.md
    "python -m bench --help",
    # docs/data.md (last: it lands the 120,000-transaction default on top)
    "workbench run --layer silver --full-refresh"
    ' --vars \'{"earliest_business_date": "2015-01-01"}\'',
    "workbench sample-data --out .demo/data",
    "workbench ingest .demo/data/products.jsonl --entity products",
    "workbench ingest '.demo/data/transactions-*.jsonl' --entity transactions",
    "workbench ingest .demo/data --entity transactions --batch-id nightly-2024-06-01",
    "workbench ingest s3://scout-landing/drops/2024-06-01/ --entity transactions --source gdrive",
)

# --- COVERED: run in the same shape by another test ---

COVERED: dict[str, str] = {
    "make demo": "tests/integration/test_demo.py (workbench demo on the embedded server)",
    "POSTGRES_HOST=db.example POSTGRES_PORT=5432 POSTGRES_USER=scout POSTGRES_PASSWORD=… "
    "POSTGRES_DB=scout POSTGRES_SSLMODE=require make demo": "tests/integration/test_demo.py"
    " (workbench demo with POSTGRES_* naming a server)",
    "make docs": "tests/integration/test_docs_browser.py (workbench docs --serve until Ctrl-C)",
    "make test": "the suite itself (.ci/run calls it)",
    "make manifests": "tests/manifests/test_render.py (regenerates and fails on drift)",
    "workbench run --layer silver --retry-of 0f3c9a1e-…": "tests/runtime/test_run_resume.py"
    " (the id is a placeholder for a failed run's)",
    "pytest -q tests/integration/test_dbt_parse.py tests/integration/test_dbt_project.py": "the"
    " suite itself",
    "pytest -q -p no:cacheprovider tests/manifests tests/test_submit.py": "the suite itself",
    "pytest -q tests/test_image_dockerfile.py tests/test_docs_publish.py"
    " tests/integration/test_docs_generate.py": "the suite itself",
    'curl -fsS -X POST -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json"'
    ' -d \'{"layer": "gold"}\''
    " http://dbt-workbench-webhook-eventsource-svc.dbt-workbench.svc:12000/dbt-workbench/run": (
        "tests/manifests/test_webhook.py (replays this request through the rendered EventSource"
        " and Sensor; the Service exists only in a cluster)"
    ),
    "aws s3 cp --recursive s3://my-bucket/scout-docs/runs/gold/latest/artifacts/ state/": "the"
    " AWS CLI is no dependency of this project; tests/runtime/test_run_artifacts.py pins the"
    " runs/<layer>/latest/artifacts/ layout it downloads",
}
# docs/data-model.md "The Scout Retail commands": the seed's list, run by its own test, which
# makes a test fail so that the failing-rows view has rows.
SEED_COMMANDS = (
    "dbt debug",
    "dbt compile",
    "dbt seed",
    "dbt run --models bronze",
    "dbt run --models silver+ gold+",
    "dbt test --models silver",
    "dbt test --store-failures",
)
COVERED.update(dict.fromkeys(SEED_COMMANDS, "tests/integration/test_seed_commands.py"))
COVERED["DBT_TARGET=dev DBT_DEV_NAME=alice dbt build --project-dir dbt --profiles-dir dbt"] = (
    "tests/integration/test_dbt_targets.py (the dev target's whole build on a real server)"
)
COVERED["cd .."] = "tests/integration/test_seed_commands.py (back from dbt/ after its list)"
COVERED.update(  # drive: Drive, S3 globs, --sources (issue 18)
    {
        "workbench ingest 's3://scout-landing/drops/*/transactions-*.jsonl' --entity"
        " transactions": "tests/integration/test_ingest_s3.py (globs on moto in server mode at a"
        " custom endpoint)",
        "workbench ingest gdrive://1AbCdEfGhIjKlMnOpQrStUvWxYz012345 --entity transactions": (
            "tests/integration/test_ingest_gdrive.py (a folder on the local Drive v3 server; no"
            " Google server is reachable here)"
        ),
        "workbench ingest 'gdrive://1AbCdEfGhIjKlMnOpQrStUvWxYz012345/store-*' --entity"
        " transactions": "tests/integration/test_ingest_gdrive.py"
        " (test_a_glob_selects_files_by_name)",
        "workbench ingest --sources /etc/workbench/ingest/sources.yaml": (
            "tests/integration/test_ingest_sources.py (the file mounted from the chart's values)"
        ),
    }
)
COVERED.update(  # serve (issue 17)
    {
        "workbench serve --host 127.0.0.1 --port 8080": "tests/serve/server.py (every"
        " tests/serve test starts it so, on a free port, and stops it with SIGTERM)",
        **dict.fromkeys(
            (
                'curl -fsS -X POST "$WORKBENCH_URL/v1/transactions"'
                ' -H "Authorization: Bearer $WORKBENCH_INGEST_TOKEN"'
                ' -H "Content-Type: application/json"'
                ' -H "Idempotency-Key: sale-T000000123-v1"'
                ' -d \'{"transaction_id": "T000000123", "transaction_date": "2024-03-05",'
                ' "store_id": "S012", "product_id": "P00042", "basket_id": "B00001234",'
                ' "category": "Beverages", "quantity": 3, "unit_price": "16.25",'
                ' "amount": "48.75", "payment_method": "gcash", "status": "completed"}\'',
                'curl -fsS -X POST "$WORKBENCH_URL/v1/transactions"'
                ' -H "Authorization: Bearer $WORKBENCH_INGEST_TOKEN"'
                ' -H "Content-Type: application/x-ndjson" --data-binary @sales.jsonl',
                'curl -fsS -X POST "$WORKBENCH_URL/v1/products"'
                ' -H "Authorization: Bearer $WORKBENCH_INGEST_TOKEN"'
                ' -H "Content-Type: text/csv" --data-binary @products.csv',
            ),
            "tests/serve/test_documented_examples.py (run as written against a real service)",
        ),
    }
)
COVERED.update(  # embeddings (issue 20): need pgvector, which the RUN list's server lacks
    {
        "workbench embed": "tests/integration/test_embed_platinum.py (PostgreSQL 16 + pgvector)",
        'workbench search "instant noodles" --top 10': "tests/integration/test_embed_platinum.py",
        'workbench search "instant noodles" --top 10 --json': (
            "tests/integration/test_embed_platinum.py"
        ),
    }
)


# --- NO_CLUSTER and HEAVY: checked without running ---


def _rendered_chart() -> list[dict[str, object]]:
    done = subprocess.run(
        [str(HELM), "template", "dbt-workbench", "charts/dbt-workbench", "-n", "dbt-workbench"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(done.stdout) if isinstance(doc, dict)]


def _named(kind: str, name: str) -> dict[str, object]:
    for doc in _rendered_chart():
        metadata = doc.get("metadata")
        if doc.get("kind") == kind and isinstance(metadata, dict) and metadata["name"] == name:
            return doc
    raise AssertionError(f"the chart renders no {kind} named {name}")


def check_argo_submit(command: str) -> None:
    """`argo submit --from KIND/NAME -p k=v`: the rendered chart has that object, and k is one
    of its parameters with v among the allowed values (argo-workflows v4.1.2
    cmd/argo/commands/submit.go resolves --from workflowtemplate/ and cronwf/)."""
    words = shlex.split(command)
    kind_name = words[words.index("--from") + 1]
    kind, name = kind_name.split("/", 1)
    kinds = {"workflowtemplate": "WorkflowTemplate", "cronwf": "CronWorkflow"}
    document = _named(kinds[kind], name)
    if kind != "workflowtemplate":
        return
    spec = document["spec"]
    assert isinstance(spec, dict)
    parameters = {p["name"]: p for p in spec["arguments"]["parameters"]}
    for index, word in enumerate(words):
        if word == "-p":
            key, value = words[index + 1].split("=", 1)
            assert key in parameters, f"{command}: no parameter {key}"
            allowed = parameters[key].get("enum")
            assert allowed is None or value in allowed, f"{command}: {value} not in {allowed}"


def check_helm(command: str) -> None:
    """`helm install|upgrade [--install]` rendered with `helm template` and the same arguments."""
    words = shlex.split(command)
    assert words[0] == "helm" and words[1] in {"install", "upgrade"}
    arguments = [word for word in words[2:] if word != "--install"]
    subprocess.run(
        [str(HELM), "template", *arguments], cwd=PROJECT_ROOT, capture_output=True, check=True
    )


def check_kubectl_secret(command: str) -> None:
    """`kubectl create secret generic` runs offline with --dry-run=client and holds exactly the
    keys the command names (a `$(…)` value is left for the shell; here it is a placeholder)."""
    words = shlex.split(command.replace('"$(openssl rand -hex 32)"', "placeholder"))
    done = subprocess.run(
        [str(KUBECTL), *words[1:], "--dry-run=client", "-o", "yaml"],
        capture_output=True,
        text=True,
        check=True,
    )
    secret = yaml.safe_load(done.stdout)
    assert secret["kind"] == "Secret"
    named = {word.split("=", 2)[1] for word in words if word.startswith("--from-literal=")}
    assert set(secret["data"]) == named


def check_token_lookup(command: str) -> None:
    """Reads back the key of the Secret the same page creates (no API server here)."""
    match = re.search(r"get secret (\S+) -o jsonpath='\{\.data\.(\w+)\}'", command)
    assert match, command
    name, key = match.groups()
    deploy = (PROJECT_ROOT / "docs" / "deploy.md").read_text()
    assert f"create secret generic {name}" in deploy
    assert f"--from-literal={key}=" in deploy


def check_kubectl_apply(command: str) -> None:
    folder = PROJECT_ROOT / shlex.split(command)[-1]
    kinds = {
        doc["kind"]
        for path in sorted(folder.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    }
    assert kinds and kinds <= {"Application", "ApplicationSet"}, kinds


def check_skaffold(command: str) -> None:
    words = shlex.split(command)
    assert words[1] in {"dev", "run", "render"}, words
    config = yaml.safe_load((PROJECT_ROOT / "skaffold.yaml").read_text())
    if "-p" in words:
        profile = words[words.index("-p") + 1]
        assert profile in {p["name"] for p in config.get("profiles", [])}, profile


def check_workbench_submit(command: str) -> None:
    """Its flags parse with the command's own parser (the Kubernetes API call is tested against
    a recorded client in tests/test_submit.py)."""
    from workbench.submit import command as submit

    parser = argparse.ArgumentParser()
    submit.add_arguments(parser)
    parser.parse_args(shlex.split(command)[2:])


def check_bench(command: str) -> None:
    from bench.__main__ import _parser

    _parser().parse_args(shlex.split(command)[3:])


def check_make_bench(command: str) -> None:
    assert "$(RUN) python -m bench\n" in (PROJECT_ROOT / "Makefile").read_text(), command


def check_image(command: str) -> None:
    """A container build takes minutes and needs root with podman or Docker; `make image-test`
    (tests/image, outside `make test`) builds the image and runs it as the chart's pods do.
    Here: the make target exists and reads the variables set for it; a build by hand names the
    Dockerfile, only ARGs it declares and only secrets it mounts."""
    words = shlex.split(command)
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    dockerfile_path = PROJECT_ROOT / "images" / "dbt-runtime" / "Dockerfile"
    dockerfile = dockerfile_path.read_text()
    if "make" in words:
        at = words.index("make")
        target, arguments = words[at + 1], words[at + 2 :]
        assert re.search(rf"^{re.escape(target)}:", makefile, flags=re.MULTILINE), target
        scripts = "".join(p.read_text() for p in (PROJECT_ROOT / "scripts").glob("*.sh"))
        for assignment in words[:at]:
            assert assignment.split("=", 1)[0] in scripts, assignment
        for assignment in arguments:
            assert f"$({assignment.split('=', 1)[0]})" in makefile, assignment
        return
    assert words[0] in {"docker", "podman"} and "build" in words
    assert (PROJECT_ROOT / words[words.index("-f") + 1]) == dockerfile_path
    instructions = dockerfile.replace("\\\n", " ").splitlines()
    declared = {
        name
        for line in instructions
        if line.startswith("ARG ")
        for name in re.findall(r"(?:^ARG|\s)(\w+)(?:=|\s|$)", line)
    }
    used = set(re.findall(r"--build-arg (\w+)=", command))
    assert used <= declared, used - declared
    mounted = set(re.findall(r"--mount=type=secret,id=([\w-]+)", dockerfile))
    secrets = set(re.findall(r"--secret id=([\w-]+),src=", command))
    assert secrets <= mounted, secrets - mounted


CHECKED: dict[str, Callable[[str], None]] = {}
for _command in (
    "argo submit -n dbt-workbench --from workflowtemplate/dbt-workbench -p layer=silver --watch",
    "argo submit -n dbt-workbench --from workflowtemplate/dbt-workbench -p layer=all"
    " -p full_refresh=true",
    "argo submit -n dbt-workbench --from cronwf/dbt-workbench-gold",
):
    CHECKED[_command] = check_argo_submit
CHECKED.update(
    {
        "kubectl -n dbt-workbench create secret generic dbt-workbench-postgres"
        " --from-literal=POSTGRES_HOST=db.example.internal --from-literal=POSTGRES_PORT=5432"
        " --from-literal=POSTGRES_USER=dbt --from-literal=POSTGRES_PASSWORD='...'"
        " --from-literal=POSTGRES_DB=scout_retail"
        " --from-literal=POSTGRES_SSLMODE=require": check_kubectl_secret,
        "helm install dbt-workbench charts/dbt-workbench -n dbt-workbench"
        " -f deploy/values-prod.yaml": check_helm,
        "helm install dbt-workbench charts/dbt-workbench -n dbt-workbench"
        " --set image.repository=registry.example.com/dbt-workbench/dbt-runtime"
        " --set image.tag=0.1.0": check_helm,
        "helm upgrade dbt-workbench charts/dbt-workbench -n dbt-workbench"
        " -f deploy/values-prod.yaml": check_helm,
        "kubectl apply -n argocd -f deploy/argocd/": check_kubectl_apply,
        "kubectl -n dbt-workbench create secret generic dbt-workbench-webhook-token"
        ' --from-literal=token="$(openssl rand -hex 32)"': check_kubectl_secret,
        "helm upgrade --install dbt-workbench charts/dbt-workbench -n dbt-workbench"
        " --set events.enabled=true"
        " --set events.webhook.authSecret.name=dbt-workbench-webhook-token": check_helm,
        'TOKEN="$(kubectl -n dbt-workbench get secret dbt-workbench-webhook-token'
        " -o jsonpath='{.data.token}' | base64 -d)\"": check_token_lookup,
        "skaffold dev": check_skaffold,
        "skaffold run": check_skaffold,
        "skaffold render -p prod-values": check_skaffold,
        "workbench submit --namespace dbt-workbench --template dbt-workbench --layer gold"
        " --wait": check_workbench_submit,
        "workbench submit --namespace dbt-workbench --template dbt-workbench --layer silver"
        " --wait": check_workbench_submit,
        # HEAVY
        "make bench": check_make_bench,
        "python -m bench --scale 1000000 --big-scale 0 --repeats 3": check_bench,
        "python -m bench --scale 200000 --big-scale 0 --repeats 3": check_bench,
        "python -m bench --only ingest --only startup": check_bench,
        "python -m bench --only incremental --scale 1000000 --big-scale 0 --repeats 1": check_bench,
        "python -m bench --only full_refresh --scale 1000000 --big-scale 0"
        " --repeats 1": check_bench,
        "make image": check_image,
        "make image IMAGE=registry.example.com/data/dbt-runtime TAG=1.4.0": check_image,
        "CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt make image": check_image,
        "CONTAINER_ENGINE=podman make image": check_image,
        "make image-base": check_image,
        "make image-test": check_image,
        "docker build --secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt"
        " -f images/dbt-runtime/Dockerfile -t dbt-workbench/dbt-runtime:dev .": check_image,
        "podman --runtime runc build --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
        " --secret id=ca-bundle,src=/etc/ssl/certs/ca-certificates.crt"
        " -f images/dbt-runtime/Dockerfile -t dbt-workbench/dbt-runtime:dev .": check_image,
        "docker build -f images/dbt-runtime/Dockerfile -t dbt-workbench/dbt-runtime:dev"
        " --build-arg POSTGRES_HOST=postgres.data.svc --build-arg POSTGRES_USER=dbt"
        " --build-arg POSTGRES_DB=scout --build-arg POSTGRES_SSLMODE=require"
        ' --build-arg REVISION="$(git rev-parse HEAD)"'
        ' --build-arg CREATED="$(date -u +%FT%TZ)" .': check_image,
    }
)
CHECKED.update(  # serve (issue 17)
    {
        "kubectl -n dbt-workbench create secret generic dbt-workbench-ingest-token"
        ' --from-literal=token="$(openssl rand -hex 32)"': check_kubectl_secret,
        "helm upgrade --install dbt-workbench charts/dbt-workbench -n dbt-workbench"
        " --set serve.enabled=true": check_helm,
    }
)


def test_every_documented_command_has_a_check() -> None:
    documented = {entry.command: entry for entry in documented_commands()}
    tables = [set(RUN), set(COVERED), set(CHECKED)]
    known = set().union(*tables)
    missing = [f"{e.document}:{e.line}: {c}" for c, e in documented.items() if c not in known]
    assert missing == [], "documented commands no test exercises:\n" + "\n".join(missing)
    assert known - set(documented) == set(), "entries for commands the docs no longer show"
    assert sum(len(table) for table in tables) == len(known), "a command in two tables"


def test_documented_paths_exist_where_the_docs_leave_you() -> None:
    """A `cd` in a block moves every later command of that page (docs/data-model.md once ran
    pytest with tests/… paths from inside dbt/)."""
    wrong = []
    for document in DOCUMENTS:
        cwd = PROJECT_ROOT
        for entry in documented_commands():
            if entry.document != document.name:
                continue
            words = shlex.split(entry.command)
            if words[0] == "cd":
                done = subprocess.run(
                    ["bash", "-c", f"{entry.command} && pwd"],
                    cwd=cwd,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                cwd = Path(done.stdout.strip())
            elif words[0] == "pytest":
                paths = [word for word in words[1:] if not word.startswith("-")]
                paths = [word for word in paths if word != "no:cacheprovider"]
                wrong += [
                    f"{entry.document}:{entry.line}: {p}" for p in paths if not (cwd / p).exists()
                ]
    assert wrong == []


@pytest.mark.parametrize("command", sorted(CHECKED))
def test_a_command_that_cannot_run_here_is_well_formed(command: str) -> None:
    CHECKED[command](command)


# --- the RUN list, for real ---


@pytest.fixture(scope="module")
def shell_env(
    pg_cluster: PostgresCluster, s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, str], Path]]:
    sandbox = tmp_path_factory.mktemp("documented")
    with temporary_database(pg_cluster, "docs") as pg:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("POSTGRES_", "DBT_", "WORKBENCH_", "AWS_"))
        }
        env.update(pg)
        env.update(
            {
                "PATH": f"{VENV_BIN}{os.pathsep}{env['PATH']}",
                "VIRTUAL_ENV": str(VENV_BIN.parent),
                "DBT_TARGET_PATH": str(sandbox / "target"),
                "DBT_LOG_PATH": str(sandbox / "logs"),
                "AWS_ENDPOINT_URL": s3_endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
        )
        yield env, sandbox


def _prepare(command: str, env: dict[str, str], sandbox: Path) -> Path:
    """What a reader of that page already has; returns the directory the command runs in."""
    s3 = boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_DEFAULT_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    if "s3://my-bucket/" in command:
        s3.create_bucket(Bucket="my-bucket")
    if "s3://scout-landing/" in command:
        s3.create_bucket(Bucket="scout-landing")
        drop = sandbox / "demo-data" / "transactions-0001.jsonl"
        s3.upload_file(str(drop), "scout-landing", "drops/2024-06-01/transactions-0001.jsonl")
    if '"$PWD/state"' in command:
        # The artifacts of the last run, as `aws s3 cp … state/` fetches them; `dbt` beside
        # them is the checkout's project (the commands name it relative to the directory).
        state_dir = sandbox / "state-cwd"
        (state_dir / "state").mkdir(parents=True, exist_ok=True)
        if not (state_dir / "dbt").exists():
            (state_dir / "dbt").symlink_to(PROJECT_ROOT / "dbt")
        for name in ("manifest.json", "run_results.json"):
            target = Path(env["DBT_TARGET_PATH"]) / name
            (state_dir / "state" / name).write_bytes(target.read_bytes())
        return state_dir
    return PROJECT_ROOT


def test_the_commands_that_can_run_here_work_as_written(
    shell_env: tuple[dict[str, str], Path],
) -> None:
    env, sandbox = shell_env
    cwd = PROJECT_ROOT
    for command in RUN:
        line = command
        for documented, moved in SANDBOX_PATHS.items():
            line = line.replace(documented, moved.format(sandbox=sandbox))
        if line.startswith("cd "):
            done = subprocess.run(
                ["bash", "-c", f"{line} && pwd"], cwd=cwd, env=env, capture_output=True, text=True
            )
            assert done.returncode == 0, f"{command}\n{done.stderr}"
            cwd = Path(done.stdout.strip())
            continue
        run_in = _prepare(line, env, sandbox) if cwd == PROJECT_ROOT else cwd
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=run_in,
            env=env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECONDS,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert cwd == PROJECT_ROOT
