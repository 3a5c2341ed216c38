"""`hashing`: feature hashing of lower-cased words into a fixed number of signed buckets.

Deterministic (blake2b, no seed, no model file), instant, and lexical only: it finds products
that share words with the query, never ones that merely mean the same. It is the tests'
baseline and the fallback when the `embed` extra (wordllama) is not installed.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

from workbench.embed.provider import Vector

DEFAULT_DIMENSIONS = 256
_WORD = re.compile(r"[0-9a-z]+")


class HashingEmbedder:
    def __init__(self, dimensions: int = DEFAULT_DIMENSIONS) -> None:
        self._dimensions = dimensions

    @property
    def model_id(self) -> str:
        return f"hashing:words-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        return [self._one(text) for text in texts]

    def _one(self, text: str) -> Vector:
        vector = [0.0] * self._dimensions
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self._dimensions
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(x * x for x in vector))
        if norm == 0.0:
            # A text with no word still needs a valid unit vector (cosine of a zero vector is NaN).
            vector[0], norm = 1.0, 1.0
        return [x / norm for x in vector]
