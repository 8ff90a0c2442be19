from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from maskaudit.near_duplicates import distances, near_pairs


def brute_force(hashes: np.ndarray, distance: int) -> set[tuple[int, int]]:
    left, right = np.triu_indices(hashes.size, 1)
    near = distances(hashes[left], hashes[right]) <= distance
    return set(zip(left[near].tolist(), right[near].tolist(), strict=True))


@given(st.lists(st.integers(0, 2**64 - 1), max_size=60), st.lists(st.integers(0, 63), max_size=30),
       st.integers(-1, 70))
@settings(max_examples=150, deadline=None)
def test_band_index_finds_every_pair_brute_force_finds(base: list[int], flips: list[int], distance: int) -> None:
    """Random hashes plus near copies of them (a few bits flipped), so that pairs within the distance exist."""
    copies = [base[i % len(base)] ^ (1 << bit) ^ (1 << flips[-1 - i]) for i, bit in enumerate(flips)] if base else []
    hashes = np.array(base + copies, dtype=np.uint64)
    left, right = near_pairs(hashes, distance)
    found = list(zip(left.tolist(), right.tolist(), strict=True))
    assert len(found) == len(set(found))
    assert set(found) == (brute_force(hashes, distance) if distance >= 0 else set())
