"""Where docs are published: an ``s3://bucket/prefix`` URL, parsed and validated once."""

from __future__ import annotations

import re
from dataclasses import dataclass

# S3 bucket naming rules (lower case, digits, dots, hyphens; 3-63 characters).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    prefix: str  # without leading or trailing slash; "" means the bucket root

    @classmethod
    def parse(cls, url: str) -> S3Location:
        if not url.startswith("s3://"):
            raise ValueError(f"--publish must look like s3://bucket/prefix; got {url!r}")
        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not _BUCKET.match(bucket):
            raise ValueError(f"not a valid S3 bucket name: {bucket!r} (in {url!r})")
        parts = [part for part in prefix.split("/") if part]
        if any(part in {".", ".."} for part in parts):
            raise ValueError(f"the S3 prefix may not contain '.' or '..' segments: {url!r}")
        return cls(bucket=bucket, prefix="/".join(parts))

    def key(self, *parts: str) -> str:
        """The object key for a path below the prefix."""
        return "/".join(part.strip("/") for part in (self.prefix, *parts) if part.strip("/"))

    def url(self, *parts: str) -> str:
        return f"s3://{self.bucket}/{self.key(*parts)}"
