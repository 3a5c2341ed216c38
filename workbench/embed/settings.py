"""Which provider and model embed, read once from the environment (names in contract.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from workbench.contract import (
    DEFAULT_EMBED_WINDOW_DAYS,
    EMBED_API_KEY_ENV,
    EMBED_DIMENSIONS_ENV,
    EMBED_MODEL_ENV,
    EMBED_PROVIDER_ENV,
    EMBED_PROVIDERS,
    EMBED_URL_ENV,
    EMBED_WINDOW_DAYS_ENV,
)
from workbench.embed import wordllama_model
from workbench.embed.provider import configuration_error

MAX_WINDOW_DAYS = 3660
# The most dimensions a provider may be asked for (WORKBENCH_EMBED_DIMENSIONS).
MAX_DIMENSIONS = 16_000


@dataclass(frozen=True)
class EmbedSettings:
    provider: str
    model: str = ""  # the provider's default when empty
    dimensions: int | None = None
    url: str = ""
    api_key: str = ""
    window_days: int = DEFAULT_EMBED_WINDOW_DAYS
    # True when no provider was named and wordllama is not installed: hashing stands in.
    fell_back: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> EmbedSettings:
        env = os.environ if env is None else env
        named = env.get(EMBED_PROVIDER_ENV, "").strip().lower()
        if named and named not in EMBED_PROVIDERS:
            raise configuration_error(
                f"{EMBED_PROVIDER_ENV}={named!r}: choose one of {', '.join(EMBED_PROVIDERS)}"
            )
        fell_back = not named and not wordllama_model.installed()
        provider = named or ("hashing" if fell_back else "wordllama")
        url = env.get(EMBED_URL_ENV, "").strip()
        model = env.get(EMBED_MODEL_ENV, "").strip()
        if provider == "openai" and not (url and model):
            raise configuration_error(
                f"provider openai needs {EMBED_URL_ENV} (e.g. https://api.openai.com/v1) and "
                f"{EMBED_MODEL_ENV} (e.g. text-embedding-3-small)"
            )
        return cls(
            provider=provider,
            model=model,
            dimensions=_positive(env, EMBED_DIMENSIONS_ENV, MAX_DIMENSIONS),
            url=url,
            api_key=env.get(EMBED_API_KEY_ENV, ""),
            window_days=_positive(env, EMBED_WINDOW_DAYS_ENV, MAX_WINDOW_DAYS)
            or DEFAULT_EMBED_WINDOW_DAYS,
            fell_back=fell_back,
        )


def _positive(env: Mapping[str, str], name: str, highest: int) -> int | None:
    text = env.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= highest:
        raise configuration_error(
            f"{name} must be a whole number from 1 to {highest}, got {text!r}"
        )
    return int(text)
