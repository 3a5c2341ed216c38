"""The in-process providers: wordllama from the installed wheel with the network blocked, the
hashing baseline, and how the provider is chosen from the environment."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from workbench.contract import ExitCode
from workbench.embed.hashing import HashingEmbedder
from workbench.embed.provider import EmbedError
from workbench.embed.providers import build_embedder
from workbench.embed.settings import EmbedSettings
from workbench.embed.wordllama_model import WordLlamaEmbedder


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture()
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise OSError("network blocked by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_wordllama_loads_from_the_wheel_with_sockets_blocked(no_network: None) -> None:
    """Any attempt to reach Hugging Face (wordllama's download path) would raise here."""
    model = WordLlamaEmbedder()
    noodles, canton, detergent = model.embed(
        [
            "instant noodles",
            "Lucky Me Pancit Canton 60g, by Lucky Me, in Instant Noodles",
            "Tide Powder Detergent 1kg, by Tide, in Household",
        ]
    )
    assert model.model_id == "wordllama:l2_supercat-256" and len(noodles) == 256
    assert _cosine(noodles, canton) > _cosine(noodles, detergent) + 0.1


def test_an_unknown_wordllama_model_is_a_configuration_error() -> None:
    with pytest.raises(EmbedError) as failed:
        WordLlamaEmbedder(model="l9_nonexistent")
    assert failed.value.exit_code == ExitCode.CONFIGURATION_ERROR
    with pytest.raises(EmbedError) as failed:
        WordLlamaEmbedder(dimensions=64)  # a size the wheel does not ship
    assert failed.value.exit_code == ExitCode.CONFIGURATION_ERROR


def test_hashing_is_deterministic_unit_length_and_lexical() -> None:
    model = HashingEmbedder(64)
    first, again = model.embed(["Lucky Me Beef Mami"]), model.embed(["lucky me beef mami"])
    assert first == again
    assert abs(_cosine(first[0], first[0]) - 1.0) < 1e-9
    [noodles, mami, soap] = model.embed(["beef mami", "Lucky Me Beef Mami", "Safeguard Soap"])
    assert _cosine(noodles, mami) > 0.5 > _cosine(noodles, soap)
    [empty] = model.embed([""])
    assert abs(_cosine(empty, empty) - 1.0) < 1e-9  # a valid vector even for no words


def test_the_provider_defaults_to_wordllama_when_installed() -> None:
    settings = EmbedSettings.from_env({})
    assert (settings.provider, settings.fell_back, settings.window_days) == (
        "wordllama",
        False,
        90,
    )


def test_without_the_extra_hashing_stands_in_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("workbench.embed.wordllama_model.installed", lambda: False)
    settings = EmbedSettings.from_env({})
    assert (settings.provider, settings.fell_back) == ("hashing", True)
    assert build_embedder(settings).model_id == "hashing:words-256"


@pytest.mark.parametrize(
    "env",
    [
        {"WORKBENCH_EMBED_PROVIDER": "bert"},
        {"WORKBENCH_EMBED_PROVIDER": "openai", "WORKBENCH_EMBED_MODEL": "m"},
        {"WORKBENCH_EMBED_DIMENSIONS": "0"},
        {"WORKBENCH_EMBED_WINDOW_DAYS": "ninety"},
    ],
)
def test_bad_settings_are_configuration_errors(env: dict[str, str]) -> None:
    with pytest.raises(EmbedError) as failed:
        EmbedSettings.from_env(env)
    assert failed.value.exit_code == ExitCode.CONFIGURATION_ERROR
