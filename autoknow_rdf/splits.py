"""Deterministic splits: a stable 0..99 bucket per key, independent of order and of the run."""

from __future__ import annotations

import hashlib

__all__ = ["bucket"]


def bucket(key: str, buckets: int = 100) -> int:
    """The bucket of a key; `bucket(k) < 20` is a 20% split that never changes.

    >>> bucket("en:teas") == bucket("en:teas") and 0 <= bucket("en:teas") < 100
    True
    """
    return int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) % buckets
