"""A small cache of results keyed by the identity of the (frozen) inputs they came from.

The engines ask the same question of the same problem objects many times (a host type's
licence counts, a partition's cost bound). Hashing the models would cost more than the
answer, so entries are keyed by the inputs' ids; each entry holds its inputs, so an id is
never reused while its entry lives, and a hit checks that the inputs are the very objects.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

__all__ = ["IdentityCache"]

T = TypeVar("T")


class IdentityCache(Generic[T]):
    """At most ``size`` results, the least recently used dropped first; thread-safe (the app
    plans in threads)."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Hashable, ...], tuple[tuple[object, ...], T]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    @staticmethod
    def _key(held: Sequence[object], extra: tuple[Hashable, ...]) -> tuple[Hashable, ...]:
        return (*(id(x) for x in held), *extra)

    def get(self, held: Sequence[object], extra: tuple[Hashable, ...] = ()) -> T | None:
        """The result stored for these very objects (and ``extra`` values), or None."""
        key = self._key(held, extra)
        with self._lock:
            hit = self._entries.get(key)
            if hit is None or not all(a is b for a, b in zip(hit[0], held, strict=True)):
                return None
            self._entries.move_to_end(key)
            return hit[1]

    def put(self, held: Sequence[object], extra: tuple[Hashable, ...], value: T) -> None:
        with self._lock:
            self._entries[self._key(held, extra)] = (tuple(held), value)
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
