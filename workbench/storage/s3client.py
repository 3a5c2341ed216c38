"""An S3 client from the standard AWS environment, for AWS or any S3-compatible endpoint.

boto3 reads AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3), AWS_REGION / AWS_DEFAULT_REGION,
AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, web identity (IRSA) and
AWS_PROFILE itself; only the retry policy and path-style addressing are set here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ADDRESSING_STYLE_ENV = "WORKBENCH_S3_ADDRESSING_STYLE"
AddressingStyle = Literal["auto", "path", "virtual"]
_STYLES: dict[str, AddressingStyle] = {"auto": "auto", "path": "path", "virtual": "virtual"}


def make_s3_client(env: Mapping[str, str] | None = None) -> S3Client:
    import boto3
    from botocore.config import Config

    env = os.environ if env is None else env
    style = env.get(ADDRESSING_STYLE_ENV, "auto") or "auto"
    if style not in _STYLES:
        raise ValueError(f"{ADDRESSING_STYLE_ENV} must be auto, path or virtual; got {style!r}")
    config = Config(
        retries={"mode": "standard", "max_attempts": _max_attempts(env)},
        connect_timeout=10,
        read_timeout=60,
        s3={"addressing_style": _STYLES[style]},
    )
    return boto3.client("s3", config=config)


def _max_attempts(env: Mapping[str, str]) -> int:
    # An explicit Config wins over the environment in botocore; honour AWS_MAX_ATTEMPTS anyway.
    text = env.get("AWS_MAX_ATTEMPTS", "5")
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"AWS_MAX_ATTEMPTS must be a positive integer; got {text!r}")
    return int(text)
