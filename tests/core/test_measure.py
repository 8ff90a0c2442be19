from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from maskaudit.decode import Decoded
from maskaudit.facts import Encoding
from maskaudit.measure import MAX_VALUES, intensity_stats, label_histogram, measure_image, measure_mask

shapes = hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=24)


@given(hnp.arrays(st.sampled_from([np.uint8, np.uint16, np.int16, np.int32, np.bool_]), shapes))
@settings(max_examples=80, deadline=None)
def test_label_histogram_matches_numpy_unique(array: np.ndarray) -> None:
    values, counts, distinct, zero, _, _, void, dtype_max = label_histogram(array)
    expected_values, expected_counts = np.unique(array.astype(np.int64), return_counts=True)
    assert distinct == expected_values.size
    assert list(values) == [float(v) for v in expected_values]
    assert list(counts) == expected_counts.tolist()
    assert sum(counts) == array.size
    assert zero == int(np.count_nonzero(array == 0)) and void == int(np.count_nonzero(array.astype(np.int64) == 255))
    top = 0 if array.dtype == np.bool_ else int(np.count_nonzero(array == np.iinfo(array.dtype).max))
    assert dtype_max == top


@given(hnp.arrays(st.sampled_from([np.uint8, np.uint16, np.int16, np.float32]),
                  hnp.array_shapes(min_dims=2, max_dims=2, min_side=40, max_side=60)),
       st.sampled_from([None, 255.0, 0.0, 65535.0]))
@settings(max_examples=40, deadline=None)
def test_mask_totals_are_exact_however_many_values(array: np.ndarray, ignore: float | None) -> None:
    """More than MAX_VALUES distinct values cap the histogram; foreground and totals stay exact."""
    facts = measure_mask(Decoded(array, "npy"))
    flat = array.astype(np.float64).ravel()
    expected_ignored = 0 if ignore is None else int(np.count_nonzero(flat == ignore))
    assert facts.pixels == array.size
    assert facts.zero_pixels == int(np.count_nonzero(flat == 0))
    assert facts.nan_pixels == int(np.count_nonzero(np.isnan(flat)))
    finite = flat[np.isfinite(flat)]
    assert facts.fractional_pixels == int(np.count_nonzero(finite != np.floor(finite)))
    assert facts.ignored(ignore) == expected_ignored
    assert facts.foreground(ignore) == array.size - facts.zero_pixels - (expected_ignored if ignore != 0 else 0)


def test_a_picture_as_a_mask_counts_every_pixel_in_its_totals() -> None:
    picture = np.random.default_rng(0).normal(0, 1, (256, 256)).astype(np.float32)
    picture[:10] = 0.0
    facts = measure_mask(Decoded(picture, "npy"))
    assert facts.capped and sum(facts.counts) < picture.size
    assert facts.foreground(None) == picture.size - 2560 and facts.labelled(None) == picture.size


def test_histogram_keeps_the_most_frequent_values_when_capped() -> None:
    array = np.arange(MAX_VALUES + 100, dtype=np.float32).reshape(1, -1)
    array[0, :50] = 0.0
    values, counts, distinct, *_ = label_histogram(array)
    assert distinct == MAX_VALUES + 100 - 49
    assert len(values) == MAX_VALUES and values[0] == 0.0 and counts[0] == 50


@given(hnp.arrays(np.float32, shapes, elements=st.floats(-1e3, 1e3, width=32) | st.just(np.nan) | st.just(np.inf)))
@settings(max_examples=80, deadline=None)
def test_intensity_stats_count_non_finite_and_ignore_it(array: np.ndarray) -> None:
    minimum, maximum, mean, std, nan, inf = intensity_stats(array)
    finite = array[np.isfinite(array)].astype(np.float64)
    assert nan == int(np.isnan(array).sum()) and inf == int(np.isinf(array).sum())
    if finite.size == 0:
        assert math.isnan(minimum)
        return
    assert minimum == finite.min() and maximum == finite.max()
    assert math.isclose(mean, finite.mean(), rel_tol=1e-4, abs_tol=1e-3)
    assert math.isclose(std, finite.std(), rel_tol=1e-3, abs_tol=1e-2)


def test_colour_mask_lists_colours_and_grey_rgb_is_single_channel() -> None:
    colour = np.zeros((4, 4, 3), np.uint8)
    colour[:2, :, 0] = 255
    facts = measure_mask(Decoded(colour, "png"))
    assert facts.is_multichannel and set(facts.colors) == {(255, 0, 0), (0, 0, 0)}
    grey = np.repeat(np.eye(4, dtype=np.uint8)[..., None], 3, axis=2)
    facts = measure_mask(Decoded(grey, "png"))
    assert not facts.is_multichannel and facts.histogram() == {0.0: 12, 1.0: 4}
    rgba = np.concatenate([grey, np.full((4, 4, 1), 255, np.uint8)], axis=2)
    assert not measure_mask(Decoded(rgba, "png")).is_multichannel


def test_image_encodings() -> None:
    rng = np.random.default_rng(1)
    assert measure_image(Decoded(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), "png")).encoding is Encoding.UINT8
    assert measure_image(Decoded(rng.random((8, 8)).astype(np.float32), "npy")).encoding is Encoding.FLOAT_UNIT
    z = rng.normal(size=(16, 16)).astype(np.float32)
    assert measure_image(Decoded(z, "npy")).encoding is Encoding.ZSCORED


def test_same_pixels_hash_alike_whatever_the_container() -> None:
    array = np.arange(16, dtype=np.uint8).reshape(4, 4)
    digest = measure_image(Decoded(array, "png")).content_hash
    assert digest == measure_image(Decoded(array.copy(), "tiff")).content_hash
    assert digest != measure_image(Decoded(array.T.copy(), "png")).content_hash
