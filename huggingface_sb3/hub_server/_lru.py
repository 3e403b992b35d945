"""A small thread-safe least-recently-used cache, for what the local Hub derives from content-addressed data (a
README's parsed metadata by blob id, an index row by head commit): such entries never go stale, only old."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class Lru(Generic[_K, _V]):
    """A small thread-safe least-recently-used cache."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: _K) -> _V | None:
        """The value for ``key`` if it is cached."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def get(self, key: _K, make: Callable[[], _V]) -> _V:
        """The value for ``key``, made with ``make`` the first time."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()
        with self._lock:
            self._items[key] = value
            if len(self._items) > self._capacity:
                self._items.popitem(last=False)
        return value
