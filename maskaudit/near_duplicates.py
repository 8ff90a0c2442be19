"""Every pair of 64-bit hashes within a Hamming distance, without comparing every pair.

Multi-index hashing: the 64 bits are cut into m bands. Two hashes within distance d differ in at most
d // m bits of at least one band (pigeonhole: m * (d // m + 1) > d), so each hash is compared only with the
hashes whose band lies within d // m bits of its own, found by binary search in that band's sorted keys.
A band up to TABLE_BITS wide is looked up in a table of bucket starts (one gather per probe); wider bands
by binary search. The band count is chosen per call to keep probes and candidates few for the number of
hashes: a million hashes split into 16- to 21-bit bands leave one to fifteen candidates per probe.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

WIDTH = 64
TABLE_BITS = 22
CANDIDATE_COST = 4.0  # a candidate pair costs about this many table lookups (expand, gather, popcount)
SEARCH_COST = 20.0  # a binary search costs about this many table lookups


def distances(left: NDArray[np.uint64], right: NDArray[np.uint64]) -> NDArray[np.int64]:
    """Element-wise Hamming distances."""
    return np.bitwise_count(np.bitwise_xor(left, right)).astype(np.int64)


def band_plan(count: int, distance: int) -> tuple[int, int]:
    """The band count and per-band radius with the fewest expected comparisons for this many hashes."""
    best: tuple[float, int, int] | None = None
    for bands in range(1, WIDTH + 1):
        width = WIDTH // bands
        radius = distance // bands
        probes = sum(math.comb(width, k) for k in range(min(radius, width) + 1))
        lookup = 1.0 if width <= TABLE_BITS else SEARCH_COST
        cost = bands * probes * (lookup + CANDIDATE_COST * count / 2.0**width)
        if best is None or cost < best[0]:
            best = (cost, bands, radius)
    assert best is not None
    return best[1], best[2]


def _bands(bands: int) -> Iterator[tuple[int, int]]:
    """(shift, width) of each band, as even as 64 bits allow."""
    shift = 0
    for index in range(bands):
        width = WIDTH // bands + (1 if index < WIDTH % bands else 0)
        yield shift, width
        shift += width


def _probes(width: int, radius: int) -> Iterator[int]:
    for flips in range(min(radius, width) + 1):
        for bits in itertools.combinations(range(width), flips):
            yield sum(1 << b for b in bits)


def near_pairs(hashes: NDArray[np.uint64], distance: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Index pairs (i < j) of every two hashes within `distance` bits of each other, each pair once.

    Equal hashes pair with each other too: collapse duplicates first when many hashes repeat.
    """
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    count = int(hashes.size)
    empty = np.empty(0, dtype=np.int64)
    if count < 2 or distance < 0:
        return empty, empty
    bands, radius = band_plan(count, distance)
    found: list[NDArray[np.int64]] = []
    positions = np.arange(count, dtype=np.int64)
    for shift, width in _bands(bands):
        keys = (hashes >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        order = np.argsort(keys, kind="stable")
        ordered = keys[order]
        if width <= TABLE_BITS:
            sizes = np.bincount(keys.astype(np.int64), minlength=1 << width)
            firsts = np.cumsum(sizes) - sizes
        for probe in _probes(width, radius):
            wanted = keys ^ np.uint64(probe)
            if width <= TABLE_BITS:
                slots = wanted.astype(np.int64)
                low, matches = firsts[slots], sizes[slots]
            else:
                low = np.searchsorted(ordered, wanted, side="left")
                matches = np.searchsorted(ordered, wanted, side="right") - low
            total = int(matches.sum())
            if not total:
                continue
            left = np.repeat(positions, matches)
            starts = np.repeat(low - (np.cumsum(matches) - matches), matches)
            right = order[starts + np.arange(total, dtype=np.int64)]
            keep = left < right
            left, right = left[keep], right[keep]
            near = distances(hashes[left], hashes[right]) <= distance
            found.append(left[near] * count + right[near])
    if not found:
        return empty, empty
    pairs = np.unique(np.concatenate(found))
    return pairs // count, pairs % count
