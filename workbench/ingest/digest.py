"""SHA-256 of a file's content as read (decompressed), for the ingest ledger."""

from __future__ import annotations

import hashlib
import io
from typing import Any

_CHUNK_BYTES = 1 << 20


class HashingReader(io.RawIOBase):
    """Passes a stream through unchanged, hashing every byte read from it."""

    def __init__(self, inner: io.BufferedIOBase) -> None:
        self._inner = inner
        self._hash = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._inner.readinto(buffer)
        if count:
            self._hash.update(memoryview(buffer)[:count])
        return count

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def stream_sha256(stream: io.BufferedIOBase) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK_BYTES):
        digest.update(chunk)
    return digest.hexdigest()
