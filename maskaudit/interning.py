"""One instance of a value that many rows repeat, so a million rows' facts do not hold a million copies."""

from __future__ import annotations

from typing import Any, TypeVar

SHARED_LIMIT = 4096  # distinct values a cache keeps; past it, new values are returned as they are

T = TypeVar("T")


def shared(cache: dict[Any, Any], value: T) -> T:
    found = cache.get(value)
    if found is not None:
        return found  # type: ignore[no-any-return]
    if len(cache) < SHARED_LIMIT:
        cache[value] = value
    return value
