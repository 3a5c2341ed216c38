"""docs/ingest-api.md's examples work as written against a real service: the curl lines run in
bash, the n8n HTTP Request node's request is replayed, the Supabase Edge Function runs under
Node.js (with `Deno.serve` and `Deno.env` provided) and its fetch reaches the service."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.pgcluster import PostgresCluster, temporary_database
from tests.serve.server import TOKEN, Served, query, server_env, serving
from workbench.config import PROJECT_ROOT

pytestmark = pytest.mark.integration

DOC = PROJECT_ROOT / "docs" / "ingest-api.md"


def fenced(language: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def curl_lines() -> list[str]:
    return [
        line.strip()
        for block in fenced("bash")
        for line in block.splitlines()
        if line.strip().startswith("curl ")
    ]


@pytest.fixture(scope="module")
def served(pg_cluster: PostgresCluster) -> Iterator[tuple[Served, dict[str, str]]]:
    with (
        temporary_database(pg_cluster, "docs") as pg_env,
        serving(server_env(pg_env), "--no-bronze-follow") as server,
    ):
        yield server, pg_env


def user_env(served: Served) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "WORKBENCH_URL": served.url, "WORKBENCH_INGEST_TOKEN": TOKEN}


def test_the_curl_examples_run_as_written(
    served: tuple[Served, dict[str, str]], tmp_path: Path
) -> None:
    server, pg_env = served
    (tmp_path / "sales.jsonl").write_text('{"transaction_id": "F1"}\n{"transaction_id": "F2"}\n')
    (tmp_path / "products.csv").write_text("product_id,unit_price\nP1,9.50\n")
    lines = curl_lines()
    assert len(lines) == 3
    for line in lines:
        done = subprocess.run(
            ["bash", "-c", line], cwd=tmp_path, env=user_env(server), capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["errors"] == 0
    assert query(
        pg_env,
        "select payload->>'transaction_id' from raw.transactions where source = 'api' order by 1",
    ) == [("F1",), ("F2",), ("T000000123",)]
    assert query(pg_env, "select payload from raw.products") == [
        ({"product_id": "P1", "unit_price": "9.50"},)
    ]


def _n8n(expression: str, env: dict[str, str], item: dict[str, str]) -> str:
    """n8n's `={{ … }}` expressions of the node, for the few names it uses."""
    values = {
        "$env.WORKBENCH_URL": env["WORKBENCH_URL"],
        "$execution.id": "exec-7",
        "$json.transaction_id": item["transaction_id"],
        "JSON.stringify($json)": json.dumps(item),
    }
    assert expression.startswith("=")
    return re.sub(r"\{\{\s*(.*?)\s*\}\}", lambda m: values[m.group(1)], expression[1:])


def test_the_n8n_node_sends_a_request_the_service_accepts_once(
    served: tuple[Served, dict[str, str]],
) -> None:
    server, pg_env = served
    [block] = fenced("json")
    node = json.loads(block)
    parameters = node["parameters"]
    assert node["type"] == "n8n-nodes-base.httpRequest"
    assert parameters["genericAuthType"] == "httpHeaderAuth"  # Authorization: Bearer <token>
    env = user_env(server)
    item = {"transaction_id": "N8N-1", "amount": "48.75"}
    headers = {
        header["name"]: _n8n(header["value"], env, item)
        for header in parameters["headerParameters"]["parameters"]
    }
    headers["Authorization"] = f"Bearer {TOKEN}"
    headers["Content-Type"] = "application/json"  # contentType "json"
    assert parameters["contentType"] == "json"
    answers = [
        httpx.request(
            parameters["method"],
            _n8n(parameters["url"], env, item),
            headers=headers,
            content=_n8n(parameters["jsonBody"], env, item),
        )
        for _ in range(2)  # n8n's retry
    ]
    assert [a.status_code for a in answers] == [202, 202]
    assert query(
        pg_env, "select payload from raw.transactions where payload->>'transaction_id' = 'N8N-1'"
    ) == [(item,)]


def test_the_supabase_edge_function_forwards_a_webhook_row(
    served: tuple[Served, dict[str, str]], tmp_path: Path
) -> None:
    server, pg_env = served
    node = shutil.which("node")
    assert node is not None, "Node.js runs the Edge Function's JavaScript"
    [function] = fenced("ts")
    event = {"type": "INSERT", "table": "sales", "record": {"transaction_id": "SB-1"}}
    script = tmp_path / "edge.mjs"
    script.write_text(
        "globalThis.Deno = { env: { get: (name) => process.env[name] },"
        " serve: (handler) => { globalThis.handler = handler; } };\n"
        + function
        + "\nconst response = await globalThis.handler(new Request('http://edge/',"
        f" {{ method: 'POST', body: {json.dumps(json.dumps(event))} }}));\n"
        "console.log(JSON.stringify({ status: response.status, body: await response.text() }));\n"
    )
    done = subprocess.run(
        [node, str(script)], env=user_env(server), capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == 202
    assert query(
        pg_env, "select payload from raw.transactions where payload->>'transaction_id' = 'SB-1'"
    ) == [({"transaction_id": "SB-1"},)]
