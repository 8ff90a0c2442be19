"""Per-split aggregates over row facts: shared by the split checks and the report."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from maskaudit.facts import RowFacts, number

if TYPE_CHECKING:
    from maskaudit.aggregates import Aggregates
    from maskaudit.keys import Keys


@dataclass(frozen=True)
class SplitStats:
    rows: int
    masks: int
    empty_masks: int
    label_pixels: dict[float, int] = field(default_factory=dict)
    images: int = 0
    encodings: dict[str, int] = field(default_factory=dict)
    # images of each (dtype, channels, encoding): how many, and the first rows
    image_kinds: dict[tuple[str, int, str], tuple[int, tuple[int, ...]]] = field(default_factory=dict)
    intensity: dict[str, float] = field(default_factory=dict)
    foreground_shares: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    image_means: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))

    @property
    def empty_share(self) -> float:
        return self.empty_masks / self.masks if self.masks else 0.0

    @property
    def labelled_pixels(self) -> int:
        return sum(self.label_pixels.values())

    def foreground_share(self) -> dict[float, float]:
        total = self.labelled_pixels
        if not total:
            return {}
        return {v: c / total for v, c in sorted(self.label_pixels.items()) if v != 0}

    @property
    def dominant_encoding(self) -> str | None:
        return max(self.encodings, key=lambda k: self.encodings[k]) if self.encodings else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "masks": self.masks,
            "empty_masks": self.empty_masks,
            "empty_share": round(self.empty_share, 6),
            "foreground_share": {str(number(k)): round(v, 8) for k, v in self.foreground_share().items()},
            "label_histogram": {str(number(k)): v for k, v in sorted(self.label_pixels.items())},
            "images": self.images,
            "image_intensity": {k: _finite(v) for k, v in self.intensity.items()},
            "encoding": self.dominant_encoding,
            "encodings": dict(sorted(self.encodings.items())),
            "foreground_share_histogram": histogram(self.foreground_shares, 0.0, 1.0),
            "image_mean_histogram": histogram(self.image_means),
        }


HISTOGRAM_BINS = 10


def histogram(values: NDArray[np.float64], low: float | None = None, high: float | None = None,
              bins: int = HISTOGRAM_BINS) -> dict[str, list[float] | list[int]]:
    """Counts in equal-width bins, with their edges: compact enough to keep in the report."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return {"edges": [], "counts": []}
    start = float(finite.min()) if low is None else low
    stop = float(finite.max()) if high is None else high
    if stop <= start:
        stop = start + 1.0
    width = (stop - start) / bins
    slots = np.clip(np.trunc((finite - start) / width), 0, bins - 1).astype(np.int64)
    counts = np.bincount(slots, minlength=bins)
    return {"edges": [round(start + i * width, 6) for i in range(bins + 1)], "counts": counts.tolist()}


def _finite(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


EXAMPLE_ROWS = 5


def kept_split_stats(keys: Keys, totals: Aggregates, kept: NDArray[np.bool_], late: Mapping[int, RowFacts],
                     ignore_index: float | None) -> dict[str, SplitStats]:
    """Per split, over the kept rows. Label pixels come from the partitions' totals (over rows that no check of
    their own row dropped) less the rows ``late`` that checks across rows dropped, read back from the facts."""
    from maskaudit.aggregates import label_contribution
    from maskaudit.keys import ENCODINGS, MaskKind

    single = (keys.mask_kind == MaskKind.LABEL_MAP) | (keys.mask_kind == MaskKind.PICTURE)
    stats: dict[str, SplitStats] = {}
    for code, name in enumerate(totals.split_names):
        chosen = kept & (keys.split == code)
        masks = chosen & single
        label_pixels = dict(totals.label_pixels[code]) if code < len(totals.label_pixels) else {}
        for row in (late[r] for r in keys.row[~kept & ~keys.dropped & (keys.split == code)].tolist()):
            for value, count in label_contribution(row, ignore_index):
                left = label_pixels[value] - count
                if left:
                    label_pixels[value] = left
                else:
                    del label_pixels[value]
        images = chosen & keys.image
        encodings = _in_order(keys.encoding[images])
        kinds = keys.image_kind[images]
        image_rows = keys.row[images]
        image_kinds = {}
        for kind, count in _in_order(kinds).items():
            image_kinds[totals.kinds[kind]] = (count, tuple(image_rows[kinds == kind][:EXAMPLE_ROWS].tolist()))
        measured = images & keys.finite
        means = keys.mean[measured]
        intensity: dict[str, float] = {}
        if means.size:
            intensity = {"min": float(keys.minimum[measured].min()), "max": float(keys.maximum[measured].max()),
                         "mean": in_order_sum(means) / means.size,
                         "mean_std": in_order_sum(keys.std[measured]) / means.size}
        stats[name] = SplitStats(
            rows=int(chosen.sum()), masks=int(masks.sum()), empty_masks=int((masks & ~keys.non_empty).sum()),
            label_pixels=label_pixels, images=int(images.sum()),
            encodings={ENCODINGS[code].value: count for code, count in encodings.items()}, image_kinds=image_kinds,
            intensity=intensity, foreground_shares=keys.share[masks], image_means=means,
        )
    return stats


SUM_CHUNK = 1 << 16


def in_order_sum(values: NDArray[np.float64]) -> float:
    """The sum of the values added one after another, as Python's sum adds them (numpy's sum adds pairwise, and
    its result can differ in the last bits), a chunk at a time instead of a Python float per value."""
    total = 0.0
    for start in range(0, values.size, SUM_CHUNK):
        chunk = values[start:start + SUM_CHUNK].copy()
        with np.errstate(over="ignore", invalid="ignore"):  # Python's sum overflows to inf silently
            chunk[0] += total
            total = float(np.cumsum(chunk)[-1])
    return total


def _in_order(codes: NDArray[np.integer[Any]]) -> dict[int, int]:
    """How often each code occurs, codes in order of first occurrence."""
    values, first, counts = np.unique(codes, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    return {int(values[i]): int(counts[i]) for i in order}
