"""Where a scan's data lives: the folder relative paths resolved against, and whether the user declared it."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DataRoot:
    """The normalised root folder; declared when --root (or the configuration's root) named it."""

    path: str
    declared: bool = False


def within(target: str, folder: str) -> bool:
    """Whether a normalised path is the folder or lies below it."""
    return target == folder or target.startswith(folder if folder.endswith(os.sep) else folder + os.sep)


def common_folder(locations: Iterable[str], min_share: float) -> str:
    """The deepest folder that holds at least min_share of the (normalised, absolute) locations.

    Walks down one path component at a time, always into the child holding the most locations: linear in the
    number of locations times their depth.
    """
    return weighted_common_folder(((location, 1) for location in locations), min_share)


def weighted_common_folder(locations: Iterable[tuple[str, int]], min_share: float) -> str:
    """common_folder over locations that each stand for ``count`` equal ones, in order of first occurrence."""
    parts = [(location.split(os.sep)[1:], count) for location, count in locations]
    needed = min_share * sum(count for _, count in parts)
    depth, folder = 0, [""]
    while parts:
        counts: Counter[str] = Counter()
        for part, count in parts:
            if len(part) > depth + 1:
                counts[part[depth]] += count
        if not counts:
            break
        child, count = counts.most_common(1)[0]
        if count < needed:
            break
        folder.append(child)
        parts = [(p, c) for p, c in parts if len(p) > depth + 1 and p[depth] == child]
        depth += 1
    return os.sep.join(folder) or os.sep
