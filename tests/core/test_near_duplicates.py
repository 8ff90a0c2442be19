from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskaudit import near_duplicates
from maskaudit.near_duplicates import banded_pairs, distances, near_pairs


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


@given(st.lists(st.integers(0, 2**64 - 1), min_size=2, max_size=40), st.lists(st.integers(0, 63), max_size=20),
       st.sampled_from([(1, 0), (1, 2), (2, 0), (2, 1), (3, 1), (4, 0), (4, 1), (6, 0), (8, 0)]),
       st.integers(0, 1))
@settings(max_examples=200, deadline=None)
def test_every_band_plan_matches_brute_force(base: list[int], flips: list[int], plan: tuple[int, int],
                                             skew: int) -> None:
    """Each band plan that the pigeonhole allows, with wide (searched) and narrow (tabled) bands, repeated hashes
    and, with ``skew``, every hash sharing its low bits so that one run holds them all."""
    bands, radius = plan
    distance = bands * (radius + 1) - 1
    copies = [base[i % len(base)] ^ (1 << bit) for i, bit in enumerate(flips)]
    values = [v & ~0xFFFF if skew else v for v in base + copies + base[:2]]
    hashes = np.array(values, dtype=np.uint64)
    left, right = banded_pairs(hashes, distance, bands, radius)
    found = list(zip(left.tolist(), right.tolist(), strict=True))
    assert found == sorted(brute_force(hashes, distance))


def test_candidates_beyond_the_budget_are_expanded_in_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    """One run larger than the candidate budget and blocks smaller than the hashes: still every pair once."""
    monkeypatch.setattr(near_duplicates, "CANDIDATE_BUDGET", 7)
    monkeypatch.setattr(near_duplicates, "BLOCK", 5)
    rng = np.random.default_rng(3)
    hashes = (rng.integers(0, 2**20, 64, dtype=np.uint64) << np.uint64(40)) | np.uint64(0xABCDEF)
    hashes[::9] = hashes[1]
    left, right = near_pairs(hashes, 5)
    assert list(zip(left.tolist(), right.tolist(), strict=True)) == sorted(brute_force(hashes, 5))
    assert left.size > 0
