"""The reduce's sort-based helpers against plain Python over the same values; keys and aggregates built over a
partition against the same built row by row."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from maskaudit import stats
from maskaudit.aggregates import Merged, build_aggregates
from maskaudit.facts import RowFacts
from maskaudit.keys import Keys, MaskKind, build_keys, first_of, pair_digest, repeats
from tests.checks.cases import CASES

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


def _zoo_rows() -> list[RowFacts]:
    """Every check's defect and clean rows, numbered in one run: every kind of image and mask the checks know."""
    rows = [row for make in CASES.values() for case in [make()] for row in (*case.defect, *case.clean)]
    return [replace(row, row=number) for number, row in enumerate(rows)]


@pytest.mark.parametrize(("ignore_index", "labels"), [(None, None), (255.0, (0, 1)), (0.0, (1, 2))])
def test_a_partitions_keys_and_aggregates_are_its_rows_one_at_a_time(
        ignore_index: float | None, labels: tuple[int, ...] | None) -> None:
    """Keys built a column at a time over many rows hold what each row alone gives, and the aggregates of the
    whole partition are the merge of the rows' own."""
    rows = _zoo_rows()
    dropped = frozenset(range(0, len(rows), 3))
    splits: dict[str, int] = {}
    kinds: dict[tuple[str, int, str], int] = {}
    whole = build_keys(rows, splits, kinds, ignore_index, labels, dropped, True)
    aggregates = build_aggregates(rows, whole, tuple(splits), tuple(kinds), ignore_index, labels)
    merged = Merged()
    for i, row in enumerate(rows):
        own_splits: dict[str, int] = {}
        own_kinds: dict[tuple[str, int, str], int] = {}
        one = build_keys([row], own_splits, own_kinds, ignore_index, labels, dropped, True)
        global_splits, global_kinds = merged.add(
            build_aggregates([row], one, tuple(own_splits), tuple(own_kinds), ignore_index, labels))
        one = one.renumbered(np.array(global_splits, np.int32), np.array(global_kinds, np.int32))
        for column in fields(Keys):
            expected, got = getattr(one, column.name), getattr(whole, column.name)[i:i + 1]
            assert np.array_equal(got, expected, equal_nan=got.dtype.kind == "f"), (column.name, row)
    assert whole.mask_kind.tolist().count(MaskKind.LABEL_MAP) > 10 and whole.non_empty.any()
    assert vars(merged.result()) == vars(aggregates)
