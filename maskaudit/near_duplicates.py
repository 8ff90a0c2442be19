"""Every pair of 64-bit hashes within a Hamming distance, without comparing every pair.

Multi-index hashing: the 64 bits are cut into m bands. Two hashes within distance d differ in at most
d // m bits of at least one band (pigeonhole: m * (d // m + 1) > d), so each hash is compared only with the
hashes whose band lies within d // m bits of its own. The band count is chosen per call to keep probes and
candidates few for the number of hashes: a million hashes split into 16- to 21-bit bands leave one to fifteen
candidates per probe.

Each band is indexed on its own: the hashes are sorted by the band's value once, and a hash in sorted place p
is compared with the hashes after it in its run of equal values, and with the runs of the values a few bits
away that are greater than its own, so every candidate pair is made once per band. Runs are found through a
table of run starts (bands up to TABLE_BITS wide) or by binary search. The hashes are taken a block of sorted
places at a time and candidates are expanded at most CANDIDATE_BUDGET at a time, so memory stays bounded
however many hashes and however skewed their bands.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray

WIDTH = 64
TABLE_BITS = 22
CANDIDATE_COST = 4.0  # a candidate pair costs about this many table lookups (expand, gather, popcount)
SEARCH_COST = 20.0  # a binary search costs about this many table lookups
BLOCK = 1 << 20  # sorted places probed at a time
CANDIDATE_BUDGET = 1 << 20  # candidate pairs expanded at a time


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
    """Every nonzero pattern of at most ``radius`` flipped bits in a band."""
    for flips in range(1, min(radius, width) + 1):
        for bits in itertools.combinations(range(width), flips):
            yield sum(1 << b for b in bits)


def _expand(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> Iterator[tuple[NDArray[np.int64],
                                                                                     NDArray[np.int64]]]:
    """(entry, partner) pairs for entry i and each partner in starts[i] .. starts[i] + counts[i] - 1, at most
    CANDIDATE_BUDGET pairs at a time."""
    ends = np.cumsum(counts)
    size, at = counts.size, 0
    while at < size:
        before = int(ends[at - 1]) if at else 0
        stop = int(np.searchsorted(ends, before + CANDIDATE_BUDGET, side="right"))
        if stop == at:  # one entry with more partners than the budget: its partners in slices
            for low in range(0, int(counts[at]), CANDIDATE_BUDGET):
                high = min(int(counts[at]), low + CANDIDATE_BUDGET)
                yield np.full(high - low, at, np.int64), starts[at] + np.arange(low, high, dtype=np.int64)
            at += 1
            continue
        taken = counts[at:stop]
        total = int(ends[stop - 1]) - before
        entries = np.repeat(np.arange(at, stop, dtype=np.int64), taken)
        offsets = np.repeat(starts[at:stop] - (ends[at:stop] - taken - before), taken)
        yield entries, offsets + np.arange(total, dtype=np.int64)
        at = stop


def _band_pairs(hashes: NDArray[np.uint64], distance: int, shift: int, width: int,
                radius: int) -> Iterator[NDArray[np.int64]]:
    """The pairs within ``distance`` whose band at ``shift`` lies within ``radius`` bits, as i * count + j with
    i < j (each pair once per band)."""
    count = hashes.size
    band = (hashes >> np.uint64(shift)) & np.uint64((1 << width) - 1)
    if width <= 32:
        band = band.astype(np.uint32)  # half the memory and half the sorting
    order = np.argsort(band, kind="stable")
    if count < 2**31:
        order = order.astype(np.int32)
    values = band[order]
    del band
    ordered = hashes[order]
    table = width <= TABLE_BITS
    if table:
        sizes = np.bincount(values, minlength=1 << width).astype(np.int32)
        firsts = (np.cumsum(sizes, dtype=np.int64) - sizes).astype(np.int32)
    probes = list(_probes(width, radius))

    def runs(places: NDArray[np.int64], own: NDArray[Any]) -> Iterator[tuple[NDArray[np.int64],
                                                                                 NDArray[np.int64],
                                                                                 NDArray[np.int64]]]:
        """(places, first partner, partner count): the rest of each place's own run, then the runs of the
        values each probe leads to."""
        if table:
            slots = own.astype(np.int64)
            yield places, places + 1, firsts[slots] + sizes[slots] - places - 1
        else:
            yield places, places + 1, np.searchsorted(values, own, side="right") - places - 1
        for probe in probes:
            wanted = own ^ own.dtype.type(probe)
            above = wanted > own  # each pair of runs once: from the lesser value
            at, wanted = places[above], wanted[above]
            if table:
                slots = wanted.astype(np.int64)
                yield at, firsts[slots], sizes[slots]
            else:
                low = np.searchsorted(values, wanted, side="left")
                yield at, low, np.searchsorted(values, wanted, side="right") - low

    for block in range(0, count, BLOCK):
        places = np.arange(block, min(block + BLOCK, count), dtype=np.int64)
        for at, starts, counts in runs(places, values[places]):
            for entries, partners in _expand(starts, counts):
                left = at[entries]
                near = np.bitwise_count(ordered[left] ^ ordered[partners]) <= distance
                first, second = order[left[near]].astype(np.int64), order[partners[near]].astype(np.int64)
                yield np.minimum(first, second) * count + np.maximum(first, second)


def near_pairs(hashes: NDArray[np.uint64], distance: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Index pairs (i < j) of every two hashes within `distance` bits of each other, each pair once, ordered
    by i then j.

    Equal hashes pair with each other too: collapse duplicates first when many hashes repeat.
    """
    hashes = np.ascontiguousarray(hashes, dtype=np.uint64)
    count = int(hashes.size)
    empty = np.empty(0, dtype=np.int64)
    if count < 2 or distance < 0:
        return empty, empty
    bands, radius = band_plan(count, distance)
    return banded_pairs(hashes, distance, bands, radius)


def banded_pairs(hashes: NDArray[np.uint64], distance: int, bands: int,
           radius: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """near_pairs with a given band plan (bands * (radius + 1) > distance)."""
    count = int(hashes.size)
    found = [pairs for shift, width in _bands(bands) for pairs in _band_pairs(hashes, distance, shift, width, radius)
             if pairs.size]
    if not found:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    pairs = np.unique(np.concatenate(found))
    return pairs // count, pairs % count
