"""A memo bounded in bytes, not in entries: datasets differ in size by a factor of a thousand.

``functools.lru_cache(maxsize=8)`` kept eight datasets whatever their size, so eight of the largest event sets
(1.8 GiB each) could stay pinned in a server long after their sessions ended. ``byte_lru`` keeps the results of
the most recently used calls up to ``$SNN_DATA_CACHE_MB`` megabytes in total (default 1024), evicting
the least recently used first; a result larger than the whole budget is returned but not kept. A result that is
evicted (or never kept) while a run still holds it is served from a weak reference, at no memory cost, for as
long as it lives (where the result can be weakly referenced).
"""
from __future__ import annotations

import functools
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, NamedTuple

from .. import settings

CACHE_ENV = settings.DATA_CACHE_MB.name
MB = 1024 * 1024


def capacity_bytes(environ=os.environ) -> int:
    """``$SNN_DATA_CACHE_MB`` in bytes (``settings.DATA_CACHE_MB``: its default, and the ValueError for a setting
    that is not a number >= 0; 0 keeps nothing)."""
    return int(settings.read(settings.DATA_CACHE_MB, environ) * MB)


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    entries: int
    bytes: int          # of the entries kept
    capacity: int


class ByteLRU:
    """``function`` memoised by its (hashable) arguments within ``capacity_bytes()``; ``size_of(result)`` in bytes.
    Thread-safe: two threads asking for one new key may both compute it (as with ``functools.lru_cache``), never
    corrupt the cache."""

    def __init__(self, function: Callable[..., Any], size_of: Callable[[Any], int]):
        functools.update_wrapper(self, function)
        self._function, self._size_of = function, size_of
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()    # key -> (result, bytes), LRU first
        self._alive: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # results a caller still holds
        self._bytes = self._hits = self._misses = 0

    def __call__(self, *args, **kwargs):
        key = (args, tuple(sorted(kwargs.items()))) if kwargs else args
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self._hits += 1
                return self._entries[key][0]
            alive = self._alive.get(key)
            if alive is not None:
                self._hits += 1
                return alive
            self._misses += 1
        result = self._function(*args, **kwargs)
        self._keep(key, result)
        return result

    def _keep(self, key: Hashable, result: Any) -> None:
        size, capacity = self._size_of(result), capacity_bytes()
        with self._lock:
            try:
                self._alive[key] = result
            except TypeError:                                   # e.g. a tuple: no weak reference
                pass
            if size > capacity or key in self._entries:
                return
            self._entries[key] = (result, size)
            self._bytes += size
            while self._bytes > capacity:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def cache_clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._alive.clear()
            self._bytes = 0

    def cache_info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._entries), self._bytes, capacity_bytes())


def byte_lru(size_of: Callable[[Any], int]) -> Callable[[Callable[..., Any]], ByteLRU]:
    """Decorator: ``@byte_lru(size_of)`` memoises a function within the data cache's byte budget."""
    return functools.partial(ByteLRU, size_of=size_of)
