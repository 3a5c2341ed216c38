"""`workbench submit` against a local HTTP server standing in for the Kubernetes API.

No real API server (nor Argo controller) can run on the machines that test this project,
so a small HTTP server on 127.0.0.1 plays the API: it records every request and answers
like the API server would (created Workflow, then its status). The Workflow the command
sends is validated against the official Argo Workflows v4 schema, strictly.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.validation.validator import schema_errors
from workbench.cli import main
from workbench.contract import ExitCode
from workbench.submit.wait import wait_for_workflow

WORKFLOWS_PATH = "/apis/argoproj.io/v1alpha1/namespaces/{namespace}/workflows"
TOKEN = "test-token-not-a-secret"  # noqa: S105 - a fake bearer token for the fake API


@dataclass
class FakeArgoApi:
    """Records requests; answers POST with the created Workflow and GET with scripted phases."""

    phases: list[str] = field(default_factory=list)
    create_status: int = 201
    requests: list[dict[str, Any]] = field(default_factory=list)

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        document = json.loads(body) if body else None
        self.requests.append({"method": method, "path": path, "headers": headers, "body": document})
        if method == "POST":
            if self.create_status != 201:
                return self.create_status, {
                    "kind": "Status",
                    "code": self.create_status,
                    "reason": "Forbidden",
                }
            created = dict(document or {})
            metadata = dict(created["metadata"])
            metadata["name"] = metadata.pop("generateName") + "x7k2p"
            created["metadata"] = metadata
            return 201, created
        phase = self.phases.pop(0) if len(self.phases) > 1 else self.phases[0]
        name = path.rsplit("/", 1)[1]
        return 200, {
            "metadata": {"name": name},
            "status": {"phase": phase, "message": f"{phase} msg"},
        }


@pytest.fixture
def fake_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArgoApi]:
    api = FakeArgoApi(phases=["Running"])

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, payload = api.handle(
                self.command,
                self.path,
                {k.lower(): v for k, v in self.headers.items()},
                self.rfile.read(length),
            )
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "fake",
                        "cluster": {"server": f"http://127.0.0.1:{server.server_port}"},
                    }
                ],
                "users": [{"name": "ci", "user": {"token": TOKEN}}],
                "contexts": [
                    {
                        "name": "fake",
                        "context": {"cluster": "fake", "user": "ci", "namespace": "analytics"},
                    }
                ],
                "current-context": "fake",
            }
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    yield api
    server.shutdown()
    server.server_close()


def _events(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_submit_creates_a_valid_workflow_from_the_template(
    fake_api: FakeArgoApi, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["submit", "--layer", " silver ", "--select", "silver_products+", "--full-refresh",
                 "--template", "wb-dbt-workbench", "--namespace", "data"])  # fmt: skip
    assert code == 0
    (request,) = fake_api.requests
    assert request["method"] == "POST"
    assert request["path"] == WORKFLOWS_PATH.format(namespace="data")
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    workflow = request["body"]
    assert schema_errors(workflow) == []
    assert workflow["kind"] == "Workflow"
    assert workflow["metadata"]["generateName"] == "wb-dbt-workbench-silver-"
    assert workflow["spec"] == {
        "workflowTemplateRef": {"name": "wb-dbt-workbench"},
        "arguments": {
            "parameters": [
                {"name": "layer", "value": "silver"},
                {"name": "select", "value": "silver_products+"},
                {"name": "exclude", "value": ""},
                {"name": "full_refresh", "value": "true"},
                {"name": "retry_of", "value": ""},
            ]
        },
    }
    (event,) = _events(capsys.readouterr().out)
    assert event == {
        "event": "submitted",
        "workflow": "wb-dbt-workbench-silver-x7k2p",
        "namespace": "data",
        "template": "wb-dbt-workbench",
        "layer": "silver",
    }


def test_namespace_defaults_to_the_kubeconfig_context(fake_api: FakeArgoApi) -> None:
    assert main(["submit", "--layer", "gold"]) == 0
    (request,) = fake_api.requests
    assert request["path"] == WORKFLOWS_PATH.format(namespace="analytics")
    assert request["body"]["spec"]["workflowTemplateRef"] == {"name": "dbt-workbench"}
    parameters = {p["name"]: p["value"] for p in request["body"]["spec"]["arguments"]["parameters"]}
    assert parameters == {
        "layer": "gold",
        "select": "",
        "exclude": "",
        "full_refresh": "false",
        "retry_of": "",
    }


@pytest.mark.parametrize(
    ("phases", "exit_code"),
    [(["Pending", "Running", "Succeeded"], 0), (["Running", "Failed"], 1), (["Error"], 2)],
)
def test_wait_follows_the_workflow_to_its_final_phase(
    fake_api: FakeArgoApi, capsys: pytest.CaptureFixture[str], phases: list[str], exit_code: int
) -> None:
    fake_api.phases = list(phases)
    code = main(["submit", "--layer", "bronze", "--wait", "--poll-interval", "0"])
    assert code == exit_code
    reads = [r for r in fake_api.requests if r["method"] == "GET"]
    assert len(reads) == len(phases)
    assert (
        reads[0]["path"]
        == WORKFLOWS_PATH.format(namespace="analytics") + "/dbt-workbench-bronze-x7k2p"
    )
    finished = _events(capsys.readouterr().out)[-1]
    assert finished["event"] == "finished"
    assert finished["phase"] == phases[-1]


def test_wait_gives_up_at_the_timeout_with_exit_2(
    fake_api: FakeArgoApi, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_api.phases = ["Running"]
    assert (
        main(["submit", "--layer", "all", "--wait", "--timeout", "0", "--poll-interval", "0"]) == 2
    )
    assert _events(capsys.readouterr().out)[-1]["phase"] == "Timeout"


@pytest.mark.parametrize(
    "arguments",
    [
        ["--layer", "diamond"],
        ["--layer", "silver", "--select", "x; rm -rf /"],
        ["--layer", "silver", "--exclude=--full-refresh"],
        ["--layer", "silver", "--full-refresh", "maybe"],
    ],
    ids=["unknown-layer", "shell-characters", "option-injection", "bad-full-refresh"],
)
def test_invalid_parameters_fail_before_any_request(
    fake_api: FakeArgoApi, capsys: pytest.CaptureFixture[str], arguments: list[str]
) -> None:
    assert main(["submit", *arguments]) == ExitCode.CONFIGURATION_ERROR
    assert fake_api.requests == []
    assert "workbench submit:" in capsys.readouterr().err


def test_api_refusal_is_a_clear_runtime_error(
    fake_api: FakeArgoApi, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_api.create_status = 403
    assert main(["submit", "--layer", "silver"]) == 2
    error = capsys.readouterr().err
    assert "HTTP 403" in error and "workflows.argoproj.io" in error


def test_missing_credentials_name_what_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert main(["submit", "--layer", "silver"]) == 2
    assert "KUBECONFIG" in capsys.readouterr().err


def test_wait_stops_polling_once_finished_without_sleeping_after() -> None:
    reads = iter(
        [{"status": {"phase": "Running"}}, {"status": {"phase": "Succeeded", "message": ""}}]
    )
    sleeps: list[float] = []
    outcome = wait_for_workflow(
        lambda: next(reads),
        timeout_seconds=60,
        poll_seconds=5,
        clock=lambda: 0.0,
        sleep=sleeps.append,
    )
    assert (outcome.phase, outcome.exit_code) == ("Succeeded", 0)
    assert sleeps == [5]
