"""Reduce a decoded array to facts. Pure functions of the array: no files, no settings."""

from __future__ import annotations

import hashlib
import math
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from maskaudit.decode import Decoded
from maskaudit.facts import ImageFacts, MaskFacts

MAX_VALUES = 1024
MAX_COLORS = 16


def content_hash(array: NDArray[Any]) -> str:
    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()


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
        spatial, channels = (int(array.shape[0]), int(array.shape[1])), int(np.prod(array.shape[2:]))
    return array, spatial, channels


def measure_mask(decoded: Decoded) -> MaskFacts:
    array, spatial, channels = layout(decoded)
    digest = content_hash(decoded.array)
    if channels > 1:
        array = array.reshape(*spatial, channels)
        color_channels = _drop_constant_alpha(array)
        if _channels_equal(color_channels):
            array = color_channels[..., 0]
        else:
            colors, color_counts, distinct = _colors(color_channels)
            return MaskFacts(
                format=decoded.format,
                shape=tuple(int(s) for s in decoded.array.shape),
                spatial=spatial,
                dtype=str(decoded.array.dtype),
                channels=channels,
                values=(),
                counts=(),
                distinct=distinct,
                content_hash=digest,
                colors=colors,
                color_counts=color_counts,
            )
    values, counts, distinct = label_histogram(array)
    return MaskFacts(
        format=decoded.format,
        shape=tuple(int(s) for s in decoded.array.shape),
        spatial=spatial,
        dtype=str(decoded.array.dtype),
        channels=channels,
        values=values,
        counts=counts,
        distinct=distinct,
        content_hash=digest,
    )


def label_histogram(array: NDArray[Any]) -> tuple[tuple[float, ...], tuple[int, ...], int]:
    """Distinct values and their pixel counts; at most MAX_VALUES of the most frequent are kept."""
    if array.dtype == np.bool_:
        array = array.view(np.uint8)
    if array.dtype == np.uint8 and array.ndim == 2:
        if not cv2.hasNonZero(array):
            return (0.0,), (int(array.size),), 1
        hist = cv2.calcHist([array], [0], None, [256], [0, 256]).ravel()
        nonzero = np.flatnonzero(hist)
        return _pack(nonzero.astype(np.float64), hist[nonzero].astype(np.int64))
    if array.dtype.kind in "ui" and array.dtype.itemsize <= 2:
        flat = array.ravel().astype(np.int64) if array.dtype.kind == "i" else array.ravel()
        low = int(flat.min()) if array.dtype.kind == "i" else 0
        counts = np.bincount(flat - low if low < 0 else flat)
        nonzero = np.flatnonzero(counts)
        return _pack(nonzero.astype(np.float64) + min(low, 0), counts[nonzero].astype(np.int64))
    values, counts = np.unique(array.ravel(), return_counts=True)
    if values.dtype.kind == "f":
        keep = ~np.isnan(values)
        nan = int(counts[~keep].sum())
        values, counts = values[keep], counts[keep]
        packed = _pack(values.astype(np.float64), counts.astype(np.int64))
        if nan:
            return (*packed[0], math.nan), (*packed[1], nan), packed[2] + 1
        return packed
    return _pack(values.astype(np.float64), counts.astype(np.int64))


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


def _colors(array: NDArray[Any]) -> tuple[tuple[tuple[int, ...], ...], tuple[int, ...], int]:
    flat = array.reshape(-1, array.shape[-1])
    colors, counts = np.unique(flat, axis=0, return_counts=True)
    order = np.argsort(counts, kind="stable")[::-1][:MAX_COLORS]
    return (
        tuple(tuple(int(v) for v in colors[i]) for i in order),
        tuple(int(counts[i]) for i in order),
        int(colors.shape[0]),
    )


def measure_image(decoded: Decoded) -> ImageFacts:
    array, spatial, channels = layout(decoded)
    digest = content_hash(decoded.array)
    minimum, maximum, mean, std, nan, inf = intensity_stats(array)
    return ImageFacts(
        format=decoded.format,
        shape=tuple(int(s) for s in decoded.array.shape),
        spatial=spatial,
        dtype=str(decoded.array.dtype),
        channels=channels,
        minimum=minimum,
        maximum=maximum,
        mean=mean,
        std=std,
        nan=nan,
        inf=inf,
        content_hash=digest,
    )


def intensity_stats(array: NDArray[Any]) -> tuple[float, float, float, float, int, int]:
    """min, max, mean and std over finite pixels of all channels, and the NaN and Inf counts."""
    if array.dtype == np.bool_:
        array = array.view(np.uint8)
    minimum, maximum = array.min(), array.max()
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


def _mean_std(array: NDArray[Any]) -> tuple[float, float]:
    channels = array.shape[-1] if array.ndim == 3 else 1
    if array.ndim in (2, 3) and channels <= 4 and array.dtype in (np.uint8, np.uint16, np.float32):
        means, stds = cv2.meanStdDev(array)
        means, stds = means.ravel(), stds.ravel()
        mean = float(means.mean())
        var = float(np.mean(stds**2 + means**2) - mean**2)
        return mean, math.sqrt(max(var, 0.0))
    as_float = array.astype(np.float64, copy=False)
    return float(as_float.mean()), float(as_float.std())
