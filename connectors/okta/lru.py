"""A thread-safe, least-recently-used map for the connector's caches (each owned by whoever
passes it in with ``ConnectorContext.caches``; none is process-wide)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedLru(Generic[K, V]):
    """``get`` refreshes an entry; ``put`` evicts the least recently used beyond ``limit``
    (passed on each call, so the owner's module constant stays the one setting). Locked: a
    service may sync targets from more than one thread."""

    def __init__(self) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> tuple[bool, V | None]:
        """(True, value) when ``key`` is held (its value may itself be None), else (False, None)."""
        with self._lock:
            if key not in self._items:
                return False, None
            self._items.move_to_end(key)
            return True, self._items[key]

    def put(self, key: K, value: V, limit: int) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > limit:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
