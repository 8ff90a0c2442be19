"""Facts round-trip through the cache's JSON form for every field, whatever the fields are."""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maskaudit.cache import CorruptEntry, _describe, _encoder, dumps, encode, loads, schema_version
from maskaudit.facts import ImageFacts, MaskFacts
from maskaudit.header import PLAIN, Traits


def strategy(kind: Any, finite: bool) -> st.SearchStrategy[Any]:
    """Values of a field's type, every field of nested records filled (defaults too)."""
    if dataclasses.is_dataclass(kind) and isinstance(kind, type):
        hints = typing.get_type_hints(kind)
        return st.builds(kind, **{f.name: strategy(hints[f.name], finite) for f in dataclasses.fields(kind)})
    if kind is float:
        return st.floats(allow_nan=not finite, allow_infinity=not finite)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return st.lists(strategy(args[0], finite), max_size=5).map(tuple)
    if origin is tuple:
        return st.tuples(*(strategy(a, finite) for a in args))
    if origin in (typing.Union, __import__("types").UnionType):
        return st.one_of(*(strategy(a, finite) for a in args))
    return st.from_type(kind)


@given(st.one_of(strategy(ImageFacts, True), strategy(MaskFacts, True)))
def test_every_field_round_trips(facts: ImageFacts | MaskFacts) -> None:
    back = loads(type(facts), dumps(facts))
    assert back == facts
    assert [type(getattr(back, f.name)) for f in dataclasses.fields(back)] == \
           [type(getattr(facts, f.name)) for f in dataclasses.fields(facts)]


@given(st.one_of(strategy(ImageFacts, False), strategy(MaskFacts, False)))
def test_nan_and_infinity_round_trip(facts: ImageFacts | MaskFacts) -> None:
    assert dumps(loads(type(facts), dumps(facts))) == dumps(facts)


def test_an_integer_stays_an_integer_and_a_float_a_float() -> None:
    facts = ImageFacts("png", (2, 2), (2, 2), "uint8", 1, 0.0, 255, math.inf, 1.5, 0, 0, "ab", Traits(6, True))
    back = loads(ImageFacts, dumps(facts))
    assert (type(back.minimum), type(back.maximum), back.mean, back.traits) == (float, int, math.inf, Traits(6, True))


def test_plain_traits_come_back_shared() -> None:
    facts = [MaskFacts("png", (1, 1), (1, 1), "uint8", 1, (0.0,), (1,), 1, f"{n}", 1, 0, 0, 0, 0) for n in range(3)]
    backs = [loads(MaskFacts, dumps(f)) for f in facts]
    assert backs == facts and backs[0].traits is backs[1].traits is backs[2].traits
    assert backs[0].traits == PLAIN


@pytest.mark.parametrize("text", [
    "{", "[]", "null", '{"format": "png"}',
    '["png",[2,2],[2,2],"uint8",1,0.0,1.0,0.5,0.1,0,0,"ab"]',  # a field short
    '["png",[2,2],[2,2],"uint8","1",0.0,1.0,0.5,0.1,0,0,"ab",[1,false,false,false,false]]',  # a text for an int
    '["png",[2,2],[2,2],"uint8",1,0.0,1.0,0.5,0.1,0,0,"ab",[1,false,false,false]]',  # traits a field short
])
def test_text_that_does_not_fit_the_fields_is_a_corrupt_entry(text: str) -> None:
    with pytest.raises(CorruptEntry):
        loads(ImageFacts, text)


def test_the_schema_version_follows_field_names_and_types() -> None:
    @dataclasses.dataclass(frozen=True)
    class Before:
        shape: tuple[int, ...]
        traits: Traits

    @dataclasses.dataclass(frozen=True)
    class Renamed:
        size: tuple[int, ...]
        traits: Traits

    @dataclasses.dataclass(frozen=True)
    class Retyped:
        shape: tuple[float, ...]
        traits: Traits

    shapes = {_describe(kind) for kind in (Before, Renamed, Retyped)}
    assert len(shapes) == 3
    assert "orientation: int" in _describe(Before)  # nested records are spelled out: a new Traits field shows
    assert schema_version().startswith("1.")


@given(st.one_of(strategy(ImageFacts, False), strategy(MaskFacts, False)))
def test_the_typed_encoder_writes_what_the_generic_one_does(facts: ImageFacts | MaskFacts) -> None:
    kind: Any = type(facts)
    assert repr(_encoder(kind)(facts)) == repr(encode(facts))
