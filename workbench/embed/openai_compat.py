"""`openai`: any OpenAI-compatible `POST {base}/embeddings` endpoint (OpenAI, vLLM, Ollama, …).

Plain HTTP through the standard library, no vendor SDK. The request is
`{"model": …, "input": [texts]}` with `Authorization: Bearer <key>`; the answer's `data[]`
holds one `{"index": i, "embedding": [...]}` per input, which is put back in input order
(the API does not promise any order). 429 and 5xx are retried with exponential backoff
(honouring `Retry-After`); a connection that cannot be made is transient (exit 2); any other
4xx (unknown model, refused key, bad request) is a configuration error (exit 3), with the
server's own `error.message`.
"""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from workbench.embed.provider import EmbedError, Vector, configuration_error, transient_error
from workbench.retry import backoff_seconds, retry_after_seconds

DEFAULT_BATCH_SIZE = 128
DEFAULT_TIMEOUT_SECONDS = 60.0
DEFAULT_ATTEMPTS = 5
_FIRST_BACKOFF_SECONDS = 0.5
_MAX_BACKOFF_SECONDS = 30.0
_PROBE_TEXT = "dimension probe"


@dataclass(frozen=True)
class Endpoint:
    base_url: str  # e.g. https://api.openai.com/v1 ; `/embeddings` is appended
    model: str
    api_key: str = ""
    dimensions: int | None = None  # expected; learnt from the first answer when not given
    batch_size: int = DEFAULT_BATCH_SIZE
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    attempts: int = DEFAULT_ATTEMPTS

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/embeddings"


class OpenAIEmbedder:
    def __init__(self, endpoint: Endpoint, sleep: Callable[[float], None] = time.sleep) -> None:
        self._endpoint = endpoint
        self._dimensions = endpoint.dimensions
        self._sleep = sleep

    @property
    def model_id(self) -> str:
        return f"openai:{self._endpoint.model}"

    @property
    def dimensions(self) -> int:
        if self._dimensions is None:
            self.embed([_PROBE_TEXT])
        assert self._dimensions is not None
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        vectors: list[Vector] = []
        size = max(1, self._endpoint.batch_size)
        for start in range(0, len(texts), size):
            vectors += self._batch(texts[start : start + size])
        return vectors

    def _batch(self, texts: Sequence[str]) -> list[Vector]:
        answer = self._post({"model": self._endpoint.model, "input": list(texts)})
        return self._vectors(answer, len(texts))

    def _vectors(self, answer: Any, expected: int) -> list[Vector]:
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, list) or len(data) != expected:
            got = len(data) if isinstance(data, list) else "no"
            raise configuration_error(
                f"{self._endpoint.url} answered {got} embeddings for {expected} inputs; "
                "is it an OpenAI-compatible /embeddings endpoint?"
            )
        ordered: list[Vector | None] = [None] * expected
        for item in data:
            index = item.get("index") if isinstance(item, dict) else None
            embedding = item.get("embedding") if isinstance(item, dict) else None
            if not isinstance(index, int) or not 0 <= index < expected or ordered[index]:
                raise configuration_error(f"{self._endpoint.url}: bad or repeated index {index!r}")
            if not isinstance(embedding, list) or not embedding:
                raise configuration_error(
                    f"{self._endpoint.url}: embedding {index} is not a list of floats "
                    "(encoding_format must be float)"
                )
            ordered[index] = self._checked(embedding)
        return [vector for vector in ordered if vector is not None]

    def _checked(self, embedding: list[Any]) -> Vector:
        if self._dimensions is None:
            self._dimensions = len(embedding)
        elif len(embedding) != self._dimensions:
            raise configuration_error(
                f"model {self._endpoint.model!r} answered {len(embedding)} dimensions, expected "
                f"{self._dimensions} (WORKBENCH_EMBED_DIMENSIONS or the model's earlier vectors)"
            )
        vector = [float(x) for x in embedding]
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]

    def _post(self, body: dict[str, Any]) -> Any:
        payload = json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._endpoint.api_key:
            headers["Authorization"] = f"Bearer {self._endpoint.api_key}"
        last: EmbedError | None = None
        for attempt in range(max(1, self._endpoint.attempts)):
            if attempt:
                self._sleep(self._backoff(attempt, last))
            request = urllib.request.Request(  # noqa: S310 - the configured http(s) endpoint
                self._endpoint.url, data=payload, headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(  # noqa: S310
                    request, timeout=self._endpoint.timeout_seconds
                ) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as error:
                failure = self._http_failure(error)
                if error.code != 429 and error.code < 500:
                    raise failure from error
                last = failure
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                reason = getattr(error, "reason", error)
                last = transient_error(f"cannot reach {self._endpoint.url}: {reason}")
            except json.JSONDecodeError as error:
                raise configuration_error(
                    f"{self._endpoint.url} did not answer JSON ({error})"
                ) from error
        assert last is not None
        raise last

    def _http_failure(self, error: urllib.error.HTTPError) -> EmbedError:
        message = _error_message(error)
        text = f"{self._endpoint.url} answered HTTP {error.code}: {message}"
        if error.code == 429 or error.code >= 500:
            retry_after = error.headers.get("Retry-After", "") if error.headers else ""
            return transient_error(text, retry_after=retry_after_seconds(retry_after))
        return configuration_error(text)

    @staticmethod
    def _backoff(attempt: int, last: EmbedError | None) -> float:
        retry_after = None if last is None else last.retry_after
        return backoff_seconds(
            attempt - 1, retry_after, base=_FIRST_BACKOFF_SECONDS, cap=_MAX_BACKOFF_SECONDS
        )


def _error_message(error: urllib.error.HTTPError) -> str:
    """The server's `error.message` (the documented error JSON), else the raw body's start."""
    try:
        body = error.read().decode("utf-8", "replace")
    except OSError:
        return error.reason if isinstance(error.reason, str) else "no body"
    try:
        parsed = json.loads(body)
    except json.JSONDecodeError:
        return body[:200] or str(error.reason)
    detail = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"])
    if isinstance(detail, str):
        return detail
    return body[:200]
