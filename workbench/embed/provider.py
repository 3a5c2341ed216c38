"""The one small interface every embedding provider keeps, and the errors they raise.

A provider turns texts into unit-length vectors of a fixed number of dimensions. Its
`model_id` names the vector space: vectors of two model ids are never compared or stored in
the same index, so a model change can never mix dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from workbench.contract import ExitCode

Vector = list[float]


class EmbedError(RuntimeError):
    """Embedding cannot go on; `exit_code` says whether a retry can help."""

    def __init__(
        self, message: str, exit_code: ExitCode, *, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.retry_after = retry_after  # seconds the server asked us to wait, if it said


def configuration_error(message: str) -> EmbedError:
    """Unknown model, wrong dimensions, a refused key, no pgvector: a person must act."""
    return EmbedError(message, ExitCode.CONFIGURATION_ERROR)


class VectorsUnavailable(EmbedError):
    """This server cannot hold platinum's vectors (no pgvector, or no right to create it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.CONFIGURATION_ERROR)


def transient_error(message: str, *, retry_after: float | None = None) -> EmbedError:
    """An unreachable or overloaded endpoint: the same run succeeds later (Argo retries)."""
    return EmbedError(message, ExitCode.RUNTIME_ERROR, retry_after=retry_after)


class Embedder(Protocol):
    @property
    def model_id(self) -> str:
        """`<provider>:<model>`: the key of the vector space in the tables."""
        ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        """One unit-length vector of `dimensions` floats per text, in the texts' order."""
        ...
