"""Secret scrubbing for anything that may reach a log line, the history tables or a metric."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from workbench.contract import EMBED_API_KEY_ENV, SERVE_TOKEN_ENV

# Environment variables whose values are secrets wherever they appear in text.
SECRET_ENV_VARS = (
    "POSTGRES_PASSWORD",
    "PGPASSWORD",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    SERVE_TOKEN_ENV,
    EMBED_API_KEY_ENV,
)
# Field names whose values are replaced outright.
SECRET_KEY_PATTERN = re.compile(
    r"(^|_)(password|passwd|secret|secret_access_key|session_token|token|credentials?|conninfo|dsn)$",
    re.I,
)
MASK = "***"

_TEXT_PATTERNS = (
    # libpq keyword strings: password=... or password='...'
    re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I),
    # URLs with credentials: scheme://user:secret@host
    re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)([^\s@]+)(?=@)", re.I),
)
# Short values would blank out ordinary words; they are still caught by the patterns above.
_MIN_SECRET_LENGTH = 4


def secret_values(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    env = os.environ if env is None else env
    values = {env.get(name, "") for name in SECRET_ENV_VARS}
    return tuple(sorted((v for v in values if len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True))


def redact_text(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern in _TEXT_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def redact_value(key: str, value: object, secrets: tuple[str, ...]) -> object:
    if SECRET_KEY_PATTERN.search(key) and value not in (None, ""):
        return MASK
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, Mapping):
        return {str(k): redact_value(str(k), v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(key, item, secrets) for item in value]
    return value
