"""The reduce's sort-based helpers against plain Python over the same values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maskaudit import stats
from maskaudit.keys import first_of, pair_digest, repeats

columns = st.integers(0, 40).flatmap(lambda n: st.tuples(st.lists(st.integers(0, 4), min_size=n, max_size=n),
                                                         st.lists(st.integers(0, 2), min_size=n, max_size=n)))


@given(columns)
def test_repeats_and_first_of_match_a_first_seen_dictionary(values: tuple[list[int], list[int]]) -> None:
    a, b = (np.array(v, dtype=np.uint64) for v in values)
    seen: dict[tuple[int, int], int] = {}
    expected_first, expected_pairs = [], []
    for index, key in enumerate(zip(*values, strict=True)):
        first = seen.setdefault(key, index)
        expected_first.append(first)
        if first != index:
            expected_pairs.append((first, index))
    assert first_of(a, b).tolist() == expected_first
    first, later, firsts = repeats(a, b)
    assert list(zip(first.tolist(), later.tolist(), strict=True)) == expected_pairs
    assert sorted(firsts.tolist()) == sorted(set(seen.values()))
    single_first, single_later, representatives = repeats(a)
    assert a[representatives].tolist() == sorted(set(values[0]))  # one entry per value, values ascending
    assert all(a[f] == a[s] and f < s for f, s in zip(single_first.tolist(), single_later.tolist(), strict=True))


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=300), st.integers(1, 7))
def test_in_order_sum_adds_as_python_sum_does(values: list[float], chunk: int) -> None:
    """Chunked as it is over millions of values, the sum is Python's one-after-another sum to the last bit."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stats, "SUM_CHUNK", chunk)
        total = stats.in_order_sum(np.array(values, dtype=np.float64))
    expected = sum(values)
    assert total == expected and np.signbit(total) == np.signbit(expected)


def test_pair_digest_tells_pairs_apart_and_matches_equal_pairs() -> None:
    first = np.array([1, 2, 1, 2, 1], dtype=np.uint64)
    second = np.array([2, 1, 2, 1, 3], dtype=np.uint64)
    digests = pair_digest(first, second).tolist()
    assert digests[0] == digests[2] and digests[1] == digests[3]
    assert len({digests[0], digests[1], digests[4]}) == 3
