"""The provider the settings name, built and ready to embed."""

from __future__ import annotations

from workbench.embed.hashing import DEFAULT_DIMENSIONS as HASHING_DIMENSIONS
from workbench.embed.hashing import HashingEmbedder
from workbench.embed.openai_compat import Endpoint, OpenAIEmbedder
from workbench.embed.provider import Embedder
from workbench.embed.settings import EmbedSettings
from workbench.embed.wordllama_model import DEFAULT_DIMENSIONS as WORDLLAMA_DIMENSIONS
from workbench.embed.wordllama_model import DEFAULT_MODEL as WORDLLAMA_MODEL
from workbench.embed.wordllama_model import WordLlamaEmbedder


def build_embedder(settings: EmbedSettings) -> Embedder:
    if settings.provider == "hashing":
        return HashingEmbedder(settings.dimensions or HASHING_DIMENSIONS)
    if settings.provider == "wordllama":
        return WordLlamaEmbedder(
            settings.model or WORDLLAMA_MODEL, settings.dimensions or WORDLLAMA_DIMENSIONS
        )
    return OpenAIEmbedder(
        Endpoint(
            base_url=settings.url,
            model=settings.model,
            api_key=settings.api_key,
            dimensions=settings.dimensions,
        )
    )
