"""`workbench serve`'s settings: command-line options over environment over contract defaults."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from workbench.config import ConfigError
from workbench.contract import (
    SERVE_BRONZE_DEBOUNCE_ENV,
    SERVE_BRONZE_DEBOUNCE_SECONDS,
    SERVE_DRAIN_SECONDS,
    SERVE_DRAIN_SECONDS_ENV,
    SERVE_IDEMPOTENCY_RETENTION_ENV,
    SERVE_IDEMPOTENCY_RETENTION_SECONDS,
    SERVE_IDEMPOTENCY_WAIT_ENV,
    SERVE_IDEMPOTENCY_WAIT_SECONDS,
    SERVE_MAX_BODY_BYTES,
    SERVE_MAX_BODY_BYTES_ENV,
    SERVE_TOKEN_ENV,
)


@dataclass(frozen=True)
class ServeOptions:
    token: str | None  # None only with --no-auth
    max_body_bytes: int = SERVE_MAX_BODY_BYTES
    retention_seconds: float = SERVE_IDEMPOTENCY_RETENTION_SECONDS
    key_wait_seconds: float = SERVE_IDEMPOTENCY_WAIT_SECONDS
    drain_seconds: float = SERVE_DRAIN_SECONDS
    follow_bronze: bool = True
    debounce_seconds: float = SERVE_BRONZE_DEBOUNCE_SECONDS
    # A follower run that was busy or failed is tried again after this long.
    follow_retry_seconds: float = 10.0
    pool_size: int = 10
    # How long a request waits for a database connection before it answers 503.
    pool_timeout_seconds: float = 5.0
    retry_after_seconds: int = 5


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, got {text!r}")
    return value


def options_from_env(env: Mapping[str, str], *, no_auth: bool, follow_bronze: bool) -> ServeOptions:
    """Raises ConfigError for a missing token (unless `no_auth`) or a malformed number."""
    token = env.get(SERVE_TOKEN_ENV, "")
    if not token and not no_auth:
        raise ConfigError(
            f"{SERVE_TOKEN_ENV} is not set: clients authenticate with this bearer token "
            "(set it, or pass --no-auth to accept unauthenticated requests)"
        )
    return ServeOptions(
        token=None if no_auth else token,
        max_body_bytes=int(_number(env, SERVE_MAX_BODY_BYTES_ENV, SERVE_MAX_BODY_BYTES, minimum=1)),
        retention_seconds=_number(
            env, SERVE_IDEMPOTENCY_RETENTION_ENV, SERVE_IDEMPOTENCY_RETENTION_SECONDS, minimum=1
        ),
        key_wait_seconds=_number(
            env, SERVE_IDEMPOTENCY_WAIT_ENV, SERVE_IDEMPOTENCY_WAIT_SECONDS, minimum=0.001
        ),
        drain_seconds=_number(env, SERVE_DRAIN_SECONDS_ENV, SERVE_DRAIN_SECONDS, minimum=0),
        follow_bronze=follow_bronze,
        debounce_seconds=_number(
            env, SERVE_BRONZE_DEBOUNCE_ENV, SERVE_BRONZE_DEBOUNCE_SECONDS, minimum=0
        ),
    )
