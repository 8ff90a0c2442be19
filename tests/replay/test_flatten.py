"""Flattening nested compositions into leaves with effective probabilities."""

from __future__ import annotations

import warnings
from typing import Any

import albumentations as A
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maskaudit.replay.engine import reseed
from maskaudit.replay.flatten import flatten


def effective(compose: A.Compose) -> dict[str, float]:
    return {leaf.label: round(leaf.effective_p, 6) for leaf, _ in flatten(compose)}


def test_nested_containers() -> None:
    compose = A.Compose([
        A.Lambda(p=1.0),
        A.RandomGamma(p=0.25),
        A.OneOf([A.Blur(p=1.0), A.GaussNoise(p=0.25)], p=0.5),
        A.SomeOf([A.HorizontalFlip(p=0.5), A.VerticalFlip(p=1.0), A.Rotate(p=1.0)], n=2, p=1.0),
        A.Sequential([A.CLAHE(p=0.5)], p=0.5),
        A.OneOrOther(A.Blur(), A.Sharpen(), p=0.3),
        A.OneOf([A.Compose([A.Blur(p=0.5), A.RandomGamma(p=0.2)], p=0.1)], p=1.0),
    ])
    assert effective(compose) == {
        "0:Lambda": 1.0, "1:RandomGamma": 0.25, "2:Blur": 0.4, "3:GaussNoise": 0.1,
        "4:HorizontalFlip": round(2 / 3 * 0.5, 6), "5:VerticalFlip": round(2 / 3, 6), "6:Rotate": round(2 / 3, 6),
        "7:CLAHE": 0.25, "8:Blur": 0.3, "9:Sharpen": 0.7, "10:Blur": 0.5, "11:RandomGamma": 0.2,
    }
    leaves = [leaf for leaf, _ in flatten(compose)]
    assert [leaf.step for leaf in leaves] == [0, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 6]
    assert [leaf.always for leaf in leaves].count(True) == 1
    assert leaves[3].path == "[2]OneOf[1]"


probabilities = st.sampled_from([0.1, 0.25, 0.5, 0.75, 1.0])


def tree(depth: int) -> st.SearchStrategy[Any]:
    leaf = probabilities.map(lambda p: A.HorizontalFlip(p=p))
    if depth == 0:
        return leaf
    children = st.lists(st.one_of(leaf, tree(depth - 1)), min_size=1, max_size=3)
    return st.one_of(
        leaf,
        st.tuples(children, probabilities).map(lambda c: A.OneOf(c[0], p=c[1])),
        st.tuples(children, probabilities).map(lambda c: A.Sequential(c[0], p=c[1])),
        st.tuples(children, probabilities).map(lambda c: A.Compose(c[0], p=c[1])),
        # n at most the children: albumentations would lower it, with a warning
        st.tuples(children, probabilities, st.integers(1, 3)).map(
            lambda c: A.SomeOf(c[0], n=min(c[2], len(c[0])), p=c[1])),
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(tree(2), min_size=1, max_size=3))
def test_effective_probabilities_match_sampled_frequencies(children: list[Any]) -> None:
    """Every leaf is a flip that records itself; frequencies over reseeded calls match the flattened p."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compose = A.Compose(children, save_applied_params=True)
        leaves = flatten(compose)
        assert all(0.0 <= leaf.effective_p <= 1.0 for leaf, _ in leaves)
        fired = np.zeros(len(leaves))
        image = np.zeros((4, 4), np.uint8)
        for seed in range(300):
            reseed(compose, seed * 1000)
            applied = compose(image=image)["applied_transforms"]
            ids = [id(t) for _, t in leaves]
            for transform_id in _applied_ids(compose, applied):
                fired[ids.index(transform_id)] += 1
    expected = np.array([leaf.effective_p for leaf, _ in leaves])
    assert np.all(np.abs(fired / 300 - expected) < 0.15)


def _applied_ids(compose: A.Compose, applied: list[Any]) -> list[int]:
    return [int(params["leaf"]) for _, params in applied if "leaf" in params]


@pytest.fixture(autouse=True)
def _tag_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flips record which instance ran, so sampled frequencies can be counted per leaf."""
    original = A.HorizontalFlip.get_params

    def tagged(self: A.HorizontalFlip) -> dict[str, Any]:
        params = dict(original(self))
        params["leaf"] = id(self)
        return params

    monkeypatch.setattr(A.HorizontalFlip, "get_params", tagged)
