"""`wordllama`: a small static-embedding model whose weights ship inside the PyPI wheel.

Nothing is downloaded: the model loads with downloads disabled from the installed package's
own folder. (wordllama 0.4 looks for its tokenizer under `tokenizer/` in the package while the
wheel ships `tokenizers/`; its cache layout uses `tokenizers/`, so the package folder passed as
`cache_dir` is where both files are found.) The weights derive from Llama 2's token embeddings:
the Llama 2 Community License reaches them (docs/embeddings.md).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench.embed.provider import Vector, configuration_error

DEFAULT_MODEL = "l2_supercat"
DEFAULT_DIMENSIONS = 256
BATCH_SIZE = 256


def installed() -> bool:
    return importlib.util.find_spec("wordllama") is not None


class WordLlamaEmbedder:
    def __init__(self, model: str = DEFAULT_MODEL, dimensions: int = DEFAULT_DIMENSIONS) -> None:
        try:
            import wordllama  # type: ignore[import-untyped]  # no py.typed
        except ImportError as exc:
            raise configuration_error(
                "provider wordllama needs the `embed` extra: pip install 'dbt-workbench[embed]'"
            ) from exc
        configs = wordllama.WordLlama.list_configs()["wordllama"]
        if model not in configs:
            raise configuration_error(
                f"unknown wordllama model {model!r}; the package knows {', '.join(configs)}"
            )
        package_dir = Path(wordllama.__file__).parent
        try:
            self._model: Any = wordllama.WordLlama.load(
                config=model, dim=dimensions, cache_dir=package_dir, disable_download=True
            )
        except (FileNotFoundError, ValueError) as exc:
            raise configuration_error(
                f"wordllama model {model!r} with {dimensions} dimensions is not in the installed "
                f"package ({exc})"
            ) from exc
        self._name = model
        self._dimensions = dimensions

    @property
    def model_id(self) -> str:
        return f"wordllama:{self._name}-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        if not texts:
            return []
        matrix = self._model.embed(list(texts), norm=True, batch_size=BATCH_SIZE)
        vectors: list[Vector] = matrix.astype("float64").tolist()
        return vectors
