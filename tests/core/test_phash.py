"""The perceptual hash against its definition: median of the 63 AC coefficients, bit i for coefficient i."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

from maskaudit.phash import BITS, BLOCK, FLAT, SIDE, perceptual_hash


def reference_hash(array: NDArray[Any]) -> int | None:
    """The hash as the module documents it, written with numpy's plain reductions and no shortcuts."""
    if array.ndim not in (2, 3) or array.shape[0] < BLOCK or array.shape[1] < BLOCK:
        return None
    if array.dtype not in (np.uint8, np.uint16, np.int16, np.float32, np.float64):
        array = array.astype(np.float32)
    if array.ndim == 3 and array.shape[2] > 4:
        array = array.astype(np.float32).mean(axis=2)
    array = np.ascontiguousarray(array)
    if array.ndim == 3 and array.shape[2] in (3, 4) and array.dtype in (np.uint8, np.uint16, np.float32):
        array = cv2.cvtColor(array, cv2.COLOR_RGB2GRAY if array.shape[2] == 3 else cv2.COLOR_RGBA2GRAY)
    small = cv2.resize(array, (SIDE, SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    if small.ndim == 3:
        small = small[..., :3].mean(axis=2) if small.shape[2] == 4 else small.mean(axis=2)
    if not np.isfinite(small).all():
        return None
    coefficients = cv2.dct(np.ascontiguousarray(small, dtype=np.float32))[:BLOCK, :BLOCK].ravel()[1:]
    if float(np.abs(coefficients).max()) <= FLAT * (abs(float(small.mean())) + 1.0):
        return None
    bits = coefficients > np.median(coefficients)
    return sum(1 << i for i in range(BITS) if bits[i])


pictures = st.one_of(
    hnp.arrays(st.sampled_from([np.uint8, np.uint16, np.int16, np.int32, np.bool_]),
               st.tuples(st.integers(1, 70), st.integers(1, 70), st.sampled_from([1, 2, 3, 4, 5]))
               .map(lambda s: s[:2] if s[2] == 1 else s)),
    hnp.arrays(st.sampled_from([np.float32, np.float64]),
               st.tuples(st.integers(1, 70), st.integers(1, 70)),
               elements=st.one_of(st.floats(-1e6, 1e6, width=32),
                                  st.sampled_from([np.nan, np.inf, -np.inf]))),
)


@settings(max_examples=300, deadline=None)
@given(pictures)
def test_hash_matches_its_definition(array: NDArray[Any]) -> None:
    assert perceptual_hash(array) == reference_hash(array)


def test_hash_of_photographs_matches_its_definition() -> None:
    rng = np.random.default_rng(3)
    for side in (32, 100, 512):
        base = cv2.GaussianBlur(rng.integers(0, 256, (side, side, 3), dtype=np.uint8), (0, 0), 3)
        found = perceptual_hash(base)
        assert found is not None
        assert found == reference_hash(base)
        assert found >> BITS == 0
