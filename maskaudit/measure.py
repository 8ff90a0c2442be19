"""Reduce a decoded array to facts. Pure functions of the array: no files, no settings.

These run once per file on the scan's hot path, next to a decode that costs 1-3 ms: every pass over the
pixels here is chosen to cost a small fraction of that.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import cv2
import numpy as np
import xxhash
from numpy.typing import NDArray

from maskaudit.decode import Decoded
from maskaudit.facts import ImageFacts, MaskFacts
from maskaudit.interning import SHARED_LIMIT, shared
from maskaudit.phash import perceptual_hash

MAX_VALUES = 1024
MAX_COLORS = 16
FEW_VALUES = 12  # a uint8 mask spanning at most this many values is counted value by value
_FLOATS = tuple(float(v) for v in range(256))
_SHAPES: dict[tuple[int, ...], tuple[int, ...]] = {}
_NAMES: dict[np.dtype[Any], str] = {}
_LABEL_SETS: dict[tuple[float, ...], tuple[float, ...]] = {}
# dtype tests by set membership: comparing a dtype with a scalar type converts it first, microseconds a test
_BOOL, _UINT8 = np.dtype(np.bool_), np.dtype(np.uint8)
_CV_INTEGERS = frozenset(np.dtype(t) for t in (np.uint8, np.uint16))
_CV_STATS = frozenset(np.dtype(t) for t in (np.uint8, np.uint16, np.float32))
_TOPS: dict[np.dtype[Any], float] = {}
_PREFIXES: dict[tuple[np.dtype[Any], tuple[int, ...]], bytes] = {}


def content_hash(array: NDArray[Any]) -> str:
    """A digest of the pixels, their dtype and shape: equal arrays, equal digests.

    xxh3-128 (32 hex digits): it hashes at memory speed, where blake2b costs about as much as a decode.
    """
    prefix = _PREFIXES.get((array.dtype, array.shape))
    if prefix is None:
        prefix = f"{array.dtype.str}{array.shape}".encode()
        if len(_PREFIXES) < SHARED_LIMIT:
            _PREFIXES[(array.dtype, array.shape)] = prefix
    digest = xxhash.xxh3_128(prefix)
    digest.update(np.ascontiguousarray(array).data)
    return str(digest.hexdigest())


def layout(decoded: Decoded) -> tuple[NDArray[Any], tuple[int, ...], int]:
    """The array channels-last, its spatial shape, and its channel count."""
    array = decoded.array
    if decoded.channels_first:
        array = np.moveaxis(array, 0, -1)
    if decoded.volume:
        spatial = tuple(int(s) for s in array.shape[:3])
        channels = int(array.shape[3]) if array.ndim > 3 else 1
    elif array.ndim == 2:
        spatial, channels = (int(array.shape[0]), int(array.shape[1])), 1
    else:
        spatial, channels = (int(array.shape[0]), int(array.shape[1])), math.prod(array.shape[2:])
    return array, shared(_SHAPES, spatial), channels


def _shape(decoded: Decoded) -> tuple[int, ...]:
    return shared(_SHAPES, decoded.array.shape)  # a tuple of Python ints already


def _dtype(decoded: Decoded) -> str:
    dtype = decoded.array.dtype
    name = _NAMES.get(dtype)  # str() of a dtype costs microseconds: one name a dtype
    if name is None:
        name = _NAMES[dtype] = str(dtype)
    return name


def measure_mask(decoded: Decoded) -> MaskFacts:
    array, spatial, channels = layout(decoded)
    digest = content_hash(decoded.array)
    if channels > 1:
        array = array.reshape(*spatial, channels)
        color_channels = _drop_constant_alpha(array)
        if _channels_equal(color_channels):
            array = color_channels[..., 0]
        else:
            colors, color_counts, distinct, black = _colors(color_channels)
            return MaskFacts(
                format=decoded.format,
                shape=_shape(decoded),
                spatial=spatial,
                dtype=_dtype(decoded),
                channels=channels,
                values=(),
                counts=(),
                distinct=distinct,
                content_hash=digest,
                zero_pixels=black,
                nan_pixels=0,
                fractional_pixels=0,
                void_pixels=0,
                dtype_max_pixels=0,
                colors=colors,
                color_counts=color_counts,
            )
    found = label_histogram(array)
    return MaskFacts(
        format=decoded.format,
        shape=_shape(decoded),
        spatial=spatial,
        dtype=_dtype(decoded),
        channels=channels,
        values=found.values,
        counts=found.counts,
        distinct=found.distinct,
        content_hash=digest,
        zero_pixels=found.zero,
        nan_pixels=found.nan,
        fractional_pixels=found.fractional,
        void_pixels=found.void,
        dtype_max_pixels=found.dtype_max,
    )


class Histogram(NamedTuple):
    """A label map's (capped) histogram, and exact counts taken from the full one before capping."""

    values: tuple[float, ...]
    counts: tuple[int, ...]
    distinct: int
    zero: int = 0
    nan: int = 0
    fractional: int = 0
    void: int = 0  # the value 255
    dtype_max: int = 0  # an integer dtype's largest value


def label_histogram(array: NDArray[Any]) -> Histogram:
    """Distinct values and their pixel counts; at most MAX_VALUES of the most frequent are kept."""
    if array.dtype == _BOOL:
        array = array.view(np.uint8)
        top: float | None = None
    else:
        top = _top(array.dtype) if array.dtype.kind in "ui" else None
    if array.dtype == _UINT8 and array.ndim == 2:
        if not cv2.hasNonZero(array):
            return Histogram((0.0,), (int(array.size),), 1, zero=int(array.size))
        if array.flags.c_contiguous:
            few = _few_values(array)
            if few is not None:
                return _small(shared(_LABEL_SETS, few[0]), few[1], top)
        hist = cv2.calcHist([array], [0], None, [256], [0, 256]).ravel()
        nonzero = np.flatnonzero(hist)
        packed = _pack(nonzero.astype(np.float64), hist[nonzero].astype(np.int64))
        return _small(shared(_LABEL_SETS, packed[0]), packed[1], top)
    if array.dtype.kind in "ui" and array.dtype.itemsize <= 2:
        flat = array.ravel().astype(np.int64) if array.dtype.kind == "i" else array.ravel()
        low = min(int(flat.min()), 0) if array.dtype.kind == "i" else 0
        counts = np.bincount(flat - low if low < 0 else flat)

        def at(value: float | None) -> int:
            index = None if value is None else int(value) - low
            return int(counts[index]) if index is not None and 0 <= index < counts.size else 0

        nonzero = np.flatnonzero(counts)
        packed = _pack(nonzero.astype(np.float64) + low, counts[nonzero].astype(np.int64))
        return Histogram(*packed, zero=at(0), void=at(255), dtype_max=at(top))
    values, counts = np.unique(array.ravel(), return_counts=True)
    totals = _exact(values.astype(np.float64), counts.astype(np.int64), top)
    if values.dtype.kind == "f":
        keep = ~np.isnan(values)
        values, counts = values[keep], counts[keep]
        packed = _pack(values.astype(np.float64), counts.astype(np.int64))
        if totals.nan:
            packed = (*packed[0], math.nan), (*packed[1], totals.nan), packed[2] + 1
        return totals._replace(values=packed[0], counts=packed[1], distinct=packed[2])
    packed = _pack(values.astype(np.float64), counts.astype(np.int64))
    return totals._replace(values=packed[0], counts=packed[1], distinct=packed[2])


def _top(dtype: np.dtype[Any]) -> float:
    """An integer dtype's largest value."""
    top = _TOPS.get(dtype)
    if top is None:
        top = _TOPS[dtype] = float(np.iinfo(dtype).max)
    return top


def _small(values: tuple[float, ...], counts: tuple[int, ...], top: float | None) -> Histogram:
    """An uncapped integer histogram, with its exact counts read from it."""
    found = dict(zip(values, counts, strict=True))
    return Histogram(values, counts, len(values), zero=found.get(0.0, 0), void=found.get(255.0, 0),
                     dtype_max=found.get(top, 0) if top is not None else 0)


def _exact(values: NDArray[np.float64], counts: NDArray[np.int64], top: float | None) -> Histogram:
    """Exact counts from a full histogram (every distinct value), before it is capped."""
    finite = np.isfinite(values)
    return Histogram(
        (), (), 0,
        zero=int(counts[values == 0].sum()),
        nan=int(counts[np.isnan(values)].sum()),
        fractional=int(counts[finite & (values != np.floor(values))].sum()),
        void=int(counts[values == 255].sum()),
        dtype_max=int(counts[values == top].sum()) if top is not None else 0,
    )


def _few_values(array: NDArray[Any]) -> tuple[tuple[float, ...], tuple[int, ...], int] | None:
    """The histogram of a 2-D uint8 label map holding few distinct values, or None when it spans many.

    A histogram of a label map is slow (each pixel increments one of a handful of counters, one after the
    other); comparing the map with each value its range holds and counting the matches is several times
    faster for the few values a label map holds. Same result as calcHist, in the same (ascending) order.
    """
    low_f, high_f, _, _ = cv2.minMaxLoc(array)
    low, high = int(low_f), int(high_f)
    if high - low >= FEW_VALUES:
        return None
    total = int(array.size)
    values: list[float] = []
    counts: list[int] = []
    scratch = np.empty_like(array)
    counted = 0
    for value in range(low, high):
        if value == 0:
            count = total - int(cv2.countNonZero(array))
        else:
            cv2.compare(array, value, cv2.CMP_EQ, dst=scratch)  # type: ignore[call-overload]
            count = int(cv2.countNonZero(scratch))
        if count:
            values.append(_FLOATS[value])
            counts.append(count)
            counted += count
    values.append(_FLOATS[high])
    counts.append(total - counted)
    return tuple(values), tuple(counts), len(values)


def _pack(
    values: NDArray[np.float64], counts: NDArray[np.int64]
) -> tuple[tuple[float, ...], tuple[int, ...], int]:
    distinct = int(values.size)
    if distinct > MAX_VALUES:
        top = np.sort(np.argsort(counts, kind="stable")[::-1][:MAX_VALUES])
        values, counts = values[top], counts[top]
    return tuple(float(v) for v in values), tuple(int(c) for c in counts), distinct


def _drop_constant_alpha(array: NDArray[Any]) -> NDArray[Any]:
    if array.shape[-1] == 4:
        alpha = array[..., 3]
        if alpha.min() == alpha.max():
            return array[..., :3]
    return array


def _channels_equal(array: NDArray[Any]) -> bool:
    first = array[..., 0]
    return all(np.array_equal(first, array[..., c]) for c in range(1, array.shape[-1]))


def _colors(array: NDArray[Any]) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], int, int]:
    """The most frequent colours and their counts, the number of colours, and the exact count of pixels whose
    colour channels are all 0."""
    flat = array.reshape(-1, array.shape[-1])
    colors, counts = np.unique(flat, axis=0, return_counts=True)
    order = np.argsort(counts, kind="stable")[::-1][:MAX_COLORS]
    black = int(counts[~colors[:, :3].any(axis=1)].sum())
    return (
        tuple(tuple(int(v) for v in colors[i]) for i in order),
        tuple(int(counts[i]) for i in order),
        int(colors.shape[0]),
        black,
    )


def measure_image(decoded: Decoded) -> ImageFacts:
    array, spatial, channels = layout(decoded)
    digest = content_hash(decoded.array)
    minimum, maximum, mean, std, nan, inf = intensity_stats(array)
    return ImageFacts(
        format=decoded.format,
        shape=_shape(decoded),
        spatial=spatial,
        dtype=_dtype(decoded),
        channels=channels,
        minimum=minimum,
        maximum=maximum,
        mean=mean,
        std=std,
        nan=nan,
        inf=inf,
        content_hash=digest,
        phash=None if decoded.volume or nan or inf else perceptual_hash(array),
        file_hash=decoded.file_hash,
    )


def intensity_stats(array: NDArray[Any]) -> tuple[float, float, float, float, int, int]:
    """min, max, mean and std over finite pixels of all channels, and the NaN and Inf counts."""
    if array.dtype == _BOOL:
        array = array.view(np.uint8)
    minimum, maximum = _min_max(array)
    nan = inf = 0
    if array.dtype.kind == "f" and not (np.isfinite(minimum) and np.isfinite(maximum)):
        nan = int(np.count_nonzero(np.isnan(array)))
        inf = int(np.count_nonzero(np.isinf(array)))
        finite = array[np.isfinite(array)]
        if finite.size == 0:
            return math.nan, math.nan, math.nan, math.nan, nan, inf
        array = finite
        minimum, maximum = finite.min(), finite.max()
    mean, std = _mean_std(array)
    return float(minimum), float(maximum), mean, std, nan, inf


def _min_max(array: NDArray[Any]) -> tuple[Any, Any]:
    """The smallest and largest element; NaN shows in float results as numpy's min/max show it."""
    if array.dtype in _CV_INTEGERS and array.flags.c_contiguous and array.ndim >= 2 and array.size:
        low, high, _, _ = cv2.minMaxLoc(array.reshape(array.shape[0], -1))
        return low, high
    return array.min(), array.max()


def _mean_std(array: NDArray[Any]) -> tuple[float, float]:
    if array.dtype in _CV_INTEGERS and array.flags.c_contiguous and array.size:
        # One channel over every pixel: OpenCV's integer path, eight times faster than per-channel on RGB.
        mean_all, std_all = cv2.meanStdDev(array.reshape(-1, 1))
        return float(mean_all[0, 0]), float(std_all[0, 0])
    channels = array.shape[-1] if array.ndim == 3 else 1
    if array.ndim in (2, 3) and channels <= 4 and array.dtype in _CV_STATS:
        means, stds = cv2.meanStdDev(array)
        means, stds = means.ravel(), stds.ravel()
        mean = float(means.mean())
        var = float(np.mean(stds**2 + means**2) - mean**2)
        return mean, math.sqrt(max(var, 0.0))
    as_float = array.astype(np.float64, copy=False)
    return float(as_float.mean()), float(as_float.std())
