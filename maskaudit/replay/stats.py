"""Pooled statistics of image values and mask labels, cheap enough to take after every transform."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from maskaudit.replay.facts import MaskSummary, ValueHistogram, ValueSummary

SAMPLE_VALUES = 16384
GRID_TOLERANCE = 1e-4


@lru_cache(maxsize=64)
def _positions(size: int) -> NDArray[np.intp]:
    """A fixed random subset of positions: a regular stride would alias with the channels."""
    return np.sort(np.random.default_rng(size).choice(size, SAMPLE_VALUES, replace=False))


def subsample(array: NDArray[Any]) -> NDArray[np.float64]:
    """The array's values, or a fixed subset of SAMPLE_VALUES of them for large arrays."""
    flat = np.asarray(array).reshape(-1)
    if flat.size > SAMPLE_VALUES:
        flat = flat[_positions(int(flat.size))]
    return flat.astype(np.float64)


HISTOGRAM_BINS = 24


@dataclass
class Histogram:
    """Counts of finite values over fixed edges; values beyond them land in the end bins."""

    low: float
    high: float
    counts: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BINS)

    def add(self, finite: NDArray[np.float64]) -> None:
        scale = HISTOGRAM_BINS / (self.high - self.low)
        bins = np.clip(((finite - self.low) * scale).astype(np.int64), 0, HISTOGRAM_BINS - 1)
        for index, count in enumerate(np.bincount(bins, minlength=HISTOGRAM_BINS).tolist()):
            self.counts[index] += int(count)

    def merge(self, other: Histogram) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]

    def facts(self) -> ValueHistogram:
        step = (self.high - self.low) / HISTOGRAM_BINS
        return ValueHistogram(tuple(self.low + i * step for i in range(HISTOGRAM_BINS + 1)), tuple(self.counts))


def histogram_span(stats: ValueStats, spread: float = 4.0) -> tuple[float, float] | None:
    """Edges shared by every histogram of a replay: the input's mean +- 4 std, within its range."""
    if not stats.finite or not math.isfinite(stats.std) or stats.maximum <= stats.minimum:
        return None
    low = max(stats.minimum, stats.mean - spread * stats.std)
    high = min(stats.maximum, stats.mean + spread * stats.std)
    return (low, high) if high > low else (stats.minimum, stats.maximum)


@dataclass
class ValueStats:
    """Pooled over many arrays: moments of finite values and shares of telling values."""

    values: int = 0
    finite: int = 0
    total: float = 0.0
    squares: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    negative: int = 0
    above_one: int = 0
    zero: int = 0
    one: int = 0
    nan: int = 0
    inf: int = 0
    on_grid: int = 0
    dtypes: set[str] = field(default_factory=set)
    histogram: Histogram | None = None

    def add(self, array: NDArray[Any]) -> None:
        data = subsample(array)
        self.dtypes.add(str(np.asarray(array).dtype))
        finite_mask = np.isfinite(data)
        finite = data[finite_mask]
        nan = int(np.isnan(data).sum())
        self.values += int(data.size)
        self.finite += int(finite.size)
        self.nan += nan
        self.inf += int(data.size - finite.size) - nan
        if finite.size == 0:
            return
        if self.histogram is not None:
            self.histogram.add(finite)
        self.total += float(finite.sum())
        self.squares += float(np.square(finite).sum())
        self.minimum = min(self.minimum, float(finite.min()))
        self.maximum = max(self.maximum, float(finite.max()))
        self.negative += int((finite < 0).sum())
        self.above_one += int((finite > 1).sum())
        self.zero += int((finite == 0).sum())
        self.one += int((finite == 1).sum())
        scaled = finite * 255.0
        self.on_grid += int(((np.abs(scaled - np.round(scaled)) < GRID_TOLERANCE * 255.0)
                             & (finite >= 0) & (finite <= 1)).sum())

    def merge(self, other: ValueStats) -> None:
        for name in ("values", "finite", "total", "squares", "negative", "above_one", "zero", "one", "nan", "inf",
                     "on_grid"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        self.dtypes |= other.dtypes
        if self.histogram is not None and other.histogram is not None:
            self.histogram.merge(other.histogram)

    @property
    def mean(self) -> float:
        return self.total / self.finite if self.finite else math.nan

    @property
    def std(self) -> float:
        if not self.finite:
            return math.nan
        return math.sqrt(max(0.0, self.squares / self.finite - self.mean**2))

    def share(self, count: int, of_finite: bool = True) -> float:
        base = self.finite if of_finite else self.values
        return count / base if base else 0.0

    def summary(self) -> ValueSummary:
        return ValueSummary(
            dtypes=tuple(sorted(self.dtypes)), mean=self.mean, std=self.std,
            minimum=self.minimum if self.finite else math.nan, maximum=self.maximum if self.finite else math.nan,
            negative_share=self.share(self.negative), above_one_share=self.share(self.above_one),
            zero_share=self.share(self.zero), one_share=self.share(self.one),
            nan_share=self.share(self.nan, of_finite=False), inf_share=self.share(self.inf, of_finite=False),
            grid_share=self.share(self.on_grid),
        )


@dataclass
class MaskStats:
    """Pooled mask labels: the label set, foreground share and how many masks are empty."""

    masks: int = 0
    pixels: int = 0
    foreground: int = 0
    empty: int = 0
    labels: set[float] = field(default_factory=set)

    def add(self, mask: NDArray[Any]) -> None:
        self.masks += 1
        self.pixels += int(mask.size)
        fg = count_nonzero(mask)
        self.foreground += fg
        self.empty += fg == 0
        self.labels |= labels_outside(mask, self.labels)

    def merge(self, other: MaskStats) -> None:
        self.masks += other.masks
        self.pixels += other.pixels
        self.foreground += other.foreground
        self.empty += other.empty
        self.labels |= other.labels

    def summary(self) -> MaskSummary:
        return MaskSummary(masks=self.masks, labels=tuple(sorted(self.labels)), label_count=len(self.labels),
                           foreground_share=self.foreground / self.pixels if self.pixels else 0.0,
                           empty_share=self.empty / self.masks if self.masks else 0.0)


def count_nonzero(mask: NDArray[Any]) -> int:
    if mask.ndim == 2 and mask.dtype in (np.uint8, np.uint16, np.float32):
        return int(cv2.countNonZero(mask))
    return int(np.count_nonzero(mask))


def labels_outside(mask: NDArray[Any], known: set[float]) -> set[float]:
    """The mask's values that are not in `known`; a table lookup when it is uint8, so the usual case is cheap."""
    if mask.dtype == np.uint8 and mask.ndim == 2:
        table = np.full(256, 255, np.uint8)
        table[[int(v) for v in known if 0 <= v <= 255 and float(v).is_integer()]] = 0
        if not cv2.countNonZero(cv2.LUT(np.ascontiguousarray(mask), table)):
            return set()
    return label_set(mask) - known


def label_set(mask: NDArray[Any], limit: int = 4096) -> set[float]:
    if mask.dtype == np.uint8 and mask.ndim == 2:
        counts = cv2.calcHist([np.ascontiguousarray(mask)], [0], None, [256], [0, 256]).ravel()
        return {float(v) for v in np.flatnonzero(counts)}
    values = np.unique(mask)
    return {float(v) for v in values[:limit]}
