"""moto keeps every bucket in process-wide state, whichever server a test started: each S3
fixture empties it first, so a test sees only the objects it put."""

from __future__ import annotations

import urllib.request


def reset_moto(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback http
        assert answer.status == 200
