"""A small per-process cache with expiry for reference rows that hot paths read on every request."""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

from django.db.models import Model

M = TypeVar("M", bound=Model)
K = TypeVar("K")


def detached_copy(instance: M) -> M:
    """A fresh instance with the same field values: callers may cache per-request facts on it."""
    names = [field.attname for field in instance._meta.concrete_fields]
    return type(instance).from_db(instance._state.db, names, [getattr(instance, name) for name in names])


class ExpiringCache(Generic[K, M]):
    """Model instances remembered for a few seconds per process. A change made elsewhere shows here
    after at most the expiry time; `clear()` forgets everything at once (call it after local writes)."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self._entries: dict[K, tuple[float, M]] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def get(self, key: K) -> M | None:
        hit = self._entries.get(key)
        if hit is None or hit[0] <= time.monotonic():
            return None
        return detached_copy(hit[1])

    def put(self, key: K, instance: M, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + seconds, detached_copy(instance))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
