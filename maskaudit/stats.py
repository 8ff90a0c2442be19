"""Per-split aggregates over row facts: shared by the split checks and the report."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from maskaudit.facts import RowFacts, number


@dataclass(frozen=True)
class SplitStats:
    rows: int
    masks: int
    empty_masks: int
    label_pixels: dict[float, int] = field(default_factory=dict)
    images: int = 0
    encodings: dict[str, int] = field(default_factory=dict)
    image_kinds: dict[tuple[str, int, str], list[int]] = field(default_factory=dict)
    intensity: dict[str, float] = field(default_factory=dict)
    foreground_shares: tuple[float, ...] = ()
    image_means: tuple[float, ...] = ()

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


def histogram(values: Sequence[float], low: float | None = None, high: float | None = None,
              bins: int = HISTOGRAM_BINS) -> dict[str, list[float] | list[int]]:
    """Counts in equal-width bins, with their edges: compact enough to keep in the report."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return {"edges": [], "counts": []}
    start = min(finite) if low is None else low
    stop = max(finite) if high is None else high
    if stop <= start:
        stop = start + 1.0
    width = (stop - start) / bins
    counts = [0] * bins
    for value in finite:
        counts[min(bins - 1, max(0, int((value - start) / width)))] += 1
    return {"edges": [round(start + i * width, 6) for i in range(bins + 1)], "counts": counts}


def _finite(value: float) -> float | None:
    return None if math.isnan(value) or math.isinf(value) else round(value, 6)


def split_stats(rows: Sequence[RowFacts], ignore_index: float | None) -> SplitStats:
    masks = empty = images = 0
    label_pixels: Counter[float] = Counter()
    encodings: Counter[str] = Counter()
    kinds: dict[tuple[str, int, str], list[int]] = {}
    shares: list[float] = []
    minimum, maximum = math.inf, -math.inf
    means: list[float] = []
    stds: list[float] = []
    for row in rows:
        mask = row.mask
        if mask is not None and not mask.is_multichannel:
            masks += 1
            foreground = mask.foreground(ignore_index)
            if foreground == 0:
                empty += 1
            for value, count in zip(mask.values, mask.counts, strict=True):
                if value != ignore_index and value == value:
                    label_pixels[value] += count
            labelled = mask.labelled(ignore_index)
            shares.append(foreground / labelled if labelled else 0.0)
        image = row.image
        if image is not None:
            images += 1
            encoding = image.encoding.value
            encodings[encoding] += 1
            kinds.setdefault((image.dtype, image.channels, encoding), []).append(row.row)
            if image.minimum == image.minimum:
                minimum = min(minimum, image.minimum)
                maximum = max(maximum, image.maximum)
                means.append(image.mean)
                stds.append(image.std)
    intensity: dict[str, float] = {}
    if means:
        intensity = {"min": minimum, "max": maximum, "mean": sum(means) / len(means),
                     "mean_std": sum(stds) / len(stds)}
    return SplitStats(
        rows=len(rows), masks=masks, empty_masks=empty, label_pixels=dict(label_pixels), images=images,
        encodings=dict(encodings), image_kinds=kinds, intensity=intensity, foreground_shares=tuple(shares),
        image_means=tuple(means),
    )
