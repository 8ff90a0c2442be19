"""Packed annotation facts: ids with a dict's equality whatever the JSON holds, and records that come back as
they went in."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from maskaudit.annotations.columns import AnnotationColumns, ColumnsBuilder, factorize, first_positions, keys_of
from maskaudit.annotations.geometry import annotation_facts
from tests.checks.annotation_cases import H, W, box, crowd

IDS = st.lists(st.one_of(st.integers(-3, 5), st.integers(-(1 << 70), 1 << 70), st.sampled_from(["a", "b", "1"]),
                         st.sampled_from([1.0, 2.5, -0.0]), st.none()), max_size=30)


@given(IDS)
def test_ids_keep_their_values_and_types(values: list[Any]) -> None:
    packed = keys_of(values).tolist()
    assert packed == values and [type(v) for v in packed] == [type(v) for v in values]


@given(IDS)
def test_factorize_numbers_keys_as_a_dict_would_in_order_of_first_appearance(values: list[Any]) -> None:
    codes, distinct = factorize(keys_of(values))
    expected = {key: number for number, key in enumerate(dict.fromkeys(values))}
    assert codes.tolist() == [expected[v] for v in values]
    assert distinct == list(expected)


@given(IDS, IDS)
def test_first_positions_find_the_first_equal_key(table: list[Any], queries: list[Any]) -> None:
    first: dict[Any, int] = {}
    for number, key in enumerate(table):
        first.setdefault(key, number)
    found = first_positions(keys_of(table), keys_of(queries))
    assert found.tolist() == [first.get(q, -1) for q in queries]


def test_records_come_back_as_they_went_in_across_files() -> None:
    files = [[box(1), box(2, segmentation=[[1, 1, 9, 9]]), crowd(3), box(4, bbox=None, area="x")],
             [box("a", image_id="x"), {"id": 5, "segmentation": "nope"}, 7]]
    parts, expected = [], []
    for source, records in enumerate(files):
        builder = ColumnsBuilder(source, len(files))
        for position, record in enumerate(records):
            facts = annotation_facts(record, len(expected), source, position, (H, W))
            builder.add(facts)
            expected.append(replace(facts, rle=b"", decoded_size=None))
        parts.append(builder.finish())
    columns = AnnotationColumns.concat(parts)
    assert columns.starts.tolist() == [0, 4, 7]
    assert list(columns.records(range(len(columns)))) == expected
