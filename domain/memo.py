"""Work done once per distinct value: the rows of an import repeat the same few values (a
group, a neighbourhood, a yes/no), and 100,000 rows should not convert each one again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_MISSING: Any = object()


class OncePerValue(Generic[T]):
    """`compute(value)`, remembered per value and its type (True, 1 and 1.0 are equal keys
    of a dict, but not the same cell). Unhashable values are computed every time; at most
    `limit` results are kept (a column of unique values would otherwise keep them all)."""

    def __init__(self, compute: Callable[[Any], T], *, limit: int = 10_000) -> None:
        self.compute = compute
        self.limit = limit
        self.seen: dict[tuple[type, Any], T] = {}

    def __call__(self, value: Any) -> T:
        key = (value.__class__, value)
        try:
            found = self.seen.get(key, _MISSING)
        except TypeError:  # unhashable (a list)
            return self.compute(value)
        if found is _MISSING:
            found = self.compute(value)
            if len(self.seen) < self.limit:
                self.seen[key] = found
        return found
