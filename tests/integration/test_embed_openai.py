"""The `openai` provider against a real HTTP server on localhost that answers as the OpenAI
embeddings API is documented to (https://platform.openai.com/docs/api-reference/embeddings):
`POST /v1/embeddings` with `{"model", "input": [...]}` → `{"object": "list", "data":
[{"object": "embedding", "index": i, "embedding": [...]}], "model", "usage"}`, errors as
`{"error": {"message", "type", "param", "code"}}` with the HTTP status.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from workbench.contract import ExitCode
from workbench.embed.openai_compat import Endpoint, OpenAIEmbedder
from workbench.embed.provider import EmbedError

pytestmark = pytest.mark.integration

KEY = "sk-test-0123456789"  # a throwaway key the fake server checks


@dataclass
class FakeAPI:
    """What the server will answer, in order; then the documented success answer."""

    url: str
    dimensions: int = 4
    scripted: list[tuple[int, dict[str, Any], dict[str, str]]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def _vector(text: str, dimensions: int) -> list[float]:
    return [float(len(text))] + [float(i + 1) for i in range(dimensions - 1)]


@pytest.fixture()
def api() -> Iterator[FakeAPI]:
    state = FakeAPI(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            if self.path != "/v1/embeddings":
                return self._send(404, {"error": {"message": "no such route"}}, {})
            if state.scripted:
                return self._send(*state.scripted.pop(0))
            inputs = body["input"]
            data = [
                {"object": "embedding", "index": i, "embedding": _vector(t, state.dimensions)}
                for i, t in enumerate(inputs)
            ]
            data.reverse()  # the API does not promise order: the client must use `index`
            tokens = sum(len(t.split()) for t in inputs)
            answer = {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
            self._send(200, answer, {})

        def _send(self, status: int, answer: dict[str, Any], headers: dict[str, str]) -> None:
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _embedder(api: FakeAPI, waits: list[float] | None = None, **options: Any) -> OpenAIEmbedder:
    endpoint = Endpoint(base_url=api.url, model="text-embedding-3-small", api_key=KEY, **options)
    return OpenAIEmbedder(endpoint, sleep=(waits if waits is not None else []).append)


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def test_batches_keep_input_order_and_carry_the_key(api: FakeAPI) -> None:
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    vectors = _embedder(api, batch_size=2).embed(texts)

    assert [len(body["input"]) for body in api.requests] == [2, 2, 1]
    assert all(h["Authorization"] == f"Bearer {KEY}" for h in api.headers)
    # unit length, first component proportional to the text's length: order restored by index
    firsts = [v[0] for v in vectors]
    assert firsts == sorted(firsts)
    assert all(abs(sum(x * x for x in v) - 1.0) < 1e-9 for v in vectors)


def test_dimensions_are_learnt_from_the_first_answer(api: FakeAPI) -> None:
    api.dimensions = 6
    embedder = _embedder(api)
    assert embedder.dimensions == 6
    assert embedder.model_id == "openai:text-embedding-3-small"


def test_429_is_retried_after_the_servers_retry_after_then_succeeds(api: FakeAPI) -> None:
    api.scripted.append((429, _error("Rate limit reached", "requests"), {"Retry-After": "0.25"}))
    api.scripted.append((503, _error("overloaded", "server_error"), {}))
    waits: list[float] = []
    vectors = _embedder(api, waits).embed(["x", "yy"])
    assert len(vectors) == 2
    assert len(api.requests) == 3
    # Retry-After honoured, then exponential backoff: 0.5 s x 2^1 plus up to a second of jitter
    assert waits[0] == 0.25 and 1.0 <= waits[1] < 2.0 and len(waits) == 2


def test_an_endpoint_that_stays_overloaded_is_transient(api: FakeAPI) -> None:
    api.scripted += [(500, _error("boom", "server_error"), {})] * 3
    with pytest.raises(EmbedError) as failed:
        _embedder(api, attempts=3).embed(["x"])
    assert failed.value.exit_code == ExitCode.RUNTIME_ERROR
    assert "HTTP 500: boom" in str(failed.value)
    assert len(api.requests) == 3


def test_400_is_a_configuration_error_with_the_servers_message_and_no_retry(api: FakeAPI) -> None:
    api.scripted.append(
        (400, _error("The model `nope` does not exist", "invalid_request_error"), {})
    )
    with pytest.raises(EmbedError) as failed:
        _embedder(api).embed(["x"])
    assert failed.value.exit_code == ExitCode.CONFIGURATION_ERROR
    assert "The model `nope` does not exist" in str(failed.value)
    assert len(api.requests) == 1


def test_a_refused_key_is_a_configuration_error(api: FakeAPI) -> None:
    api.scripted.append((401, _error("Incorrect API key provided", "invalid_request_error"), {}))
    with pytest.raises(EmbedError) as failed:
        _embedder(api).embed(["x"])
    assert failed.value.exit_code == ExitCode.CONFIGURATION_ERROR
    assert KEY not in str(failed.value)


def test_a_wrong_dimension_is_a_configuration_error(api: FakeAPI) -> None:
    api.dimensions = 8
    with pytest.raises(EmbedError) as failed:
        _embedder(api, dimensions=1536).embed(["x"])
    assert failed.value.exit_code == ExitCode.CONFIGURATION_ERROR
    assert "answered 8 dimensions, expected 1536" in str(failed.value)


def test_an_answer_with_missing_embeddings_is_refused(api: FakeAPI) -> None:
    api.scripted.append((200, {"object": "list", "data": [], "model": "m", "usage": {}}, {}))
    with pytest.raises(EmbedError) as failed:
        _embedder(api).embed(["x", "y"])
    assert failed.value.exit_code == ExitCode.CONFIGURATION_ERROR
    assert "0 embeddings for 2 inputs" in str(failed.value)
