"""The id of one published docs version: sortable by time, unique per workflow run."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime

_VERSION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def default_version_id(now: datetime, env: Mapping[str, str]) -> str:
    """``20261125T184500Z-<8 chars>``: the Argo workflow uid when present, else random."""
    suffix = (env.get("WORKFLOW_UID") or "").replace("-", "")[:8] or uuid.uuid4().hex[:8]
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{suffix.lower()}"


def validate_version_id(text: str) -> str:
    if not _VERSION_ID.match(text) or ".." in text:
        raise ValueError(
            "--version-id must be 1-128 characters of letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit; got {text!r}"
        )
    return text
