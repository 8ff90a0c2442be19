"""The facts of a whole manifest, as checks see them: rows, settings, and aggregates derived once."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from maskaudit.checks.base import Stage
from maskaudit.checks.dtypes import integer_range
from maskaudit.data_root import DataRoot
from maskaudit.facts import MaskFacts, RowFacts
from maskaudit.settings import Settings
from maskaudit.stats import SplitStats, split_stats

NO_SPLIT = "all"
MISSING_SPLIT = "(none)"


class MaskScale:
    """How a mask writes its foreground: as class indices (1, 2, ...) or as 255 (an 8-bit picture)."""

    INDEX = "indices {0,1,...}"
    BYTE = "0/255"
    WORD = "0/65535"


def mask_scale(mask: MaskFacts, ignore_index: float | None) -> str | None:
    """The scale of a non-empty single-channel mask, or None when it has no foreground to tell by."""
    foreground = {v for v in mask.values if v != 0 and v != ignore_index}
    if not foreground or mask.is_multichannel:
        return None
    if foreground == {255.0}:
        return MaskScale.BYTE
    if foreground == {65535.0}:
        return MaskScale.WORD
    return MaskScale.INDEX


IMAGE_VALUES = 100  # a label map, even a lossy one, never holds this many distinct values
IMAGE_TOP_VALUES = 8  # in a label map, this many of its values hold most of the pixels
IMAGE_FRACTION_SHARE = 0.2  # share of pixels with non-integer values from which a float mask is a picture
LABEL_SET_SHARE = 0.3  # share of non-empty masks a value must occur in to be one of the dataset's labels
MIN_MASKS_TO_INFER = 4  # fewer non-empty masks than this say nothing about the dataset's labels


def looks_like_image(mask: MaskFacts) -> str | None:
    """Why a mask is a picture rather than a label map (hundreds of values, no few of them dominant), or None.

    Instance maps stored in 16 or 32 unsigned bits hold hundreds of ids legitimately: only 8-bit, signed or
    float masks are judged by their spread of values.
    """
    if mask.distinct < IMAGE_VALUES:
        return None
    half = mask.pixels / 2
    if mask.is_multichannel:
        if sum(sorted(mask.color_counts, reverse=True)[:IMAGE_TOP_VALUES]) < half:
            return f"{mask.distinct} distinct colours, none of them dominant"
        return None
    fractional = sum(1 for v in mask.values if v == v and not float(v).is_integer())
    if fractional >= IMAGE_VALUES and mask.fractional_pixels >= IMAGE_FRACTION_SHARE * mask.pixels:
        return f"{mask.distinct} distinct values, {fractional}+ of them non-integer"
    bounds = integer_range(mask.dtype)
    spread_judged = bounds is None or bounds[1] <= 255 or any(v < 0 for v in mask.values)
    if spread_judged and sum(sorted(mask.counts, reverse=True)[:IMAGE_TOP_VALUES]) < half:
        return f"{mask.distinct} distinct values, none of them dominant"
    return None


def is_fractional(value: float) -> bool:
    return value == value and not float(value).is_integer()


@dataclass(frozen=True)
class InferredLabels:
    """The labels a dataset's masks use, inferred when none are declared."""

    labels: tuple[float, ...]
    span: float
    masks_with: Counter[float]
    masks: int

    def outside(self, value: float) -> bool:
        """A value above the labels' contiguous range: neither a common label nor a rarer class next to them."""
        return value not in self.labels and (value > self.span or value < 0)


@dataclass(frozen=True)
class Context:
    rows: Sequence[RowFacts]
    settings: Settings
    has_splits: bool = False
    kept: frozenset[int] | None = None
    root: DataRoot | None = None

    def with_kept(self, kept: frozenset[int]) -> Context:
        return Context(self.rows, self.settings, self.has_splits, kept, self.root)

    def rows_for(self, stage: Stage) -> Sequence[RowFacts]:
        if stage >= Stage.KEPT and self.kept is not None:
            return self.kept_rows
        return self.rows

    @cached_property
    def kept_rows(self) -> list[RowFacts]:
        if self.kept is None:
            return list(self.rows)
        return [r for r in self.rows if r.row in self.kept]

    def split_of(self, row: RowFacts) -> str:
        if not self.has_splits:
            return NO_SPLIT
        return row.split if row.split is not None else MISSING_SPLIT

    @cached_property
    def split_names(self) -> list[str]:
        return list(dict.fromkeys(self.split_of(r) for r in self.rows))

    def by_split(self, rows: Sequence[RowFacts]) -> dict[str, list[RowFacts]]:
        grouped: dict[str, list[RowFacts]] = {name: [] for name in self.split_names}
        for row in rows:
            grouped[self.split_of(row)].append(row)
        return grouped

    @property
    def ignore_index(self) -> float | None:
        return None if self.settings.ignore_index is None else float(self.settings.ignore_index)

    @cached_property
    def dominant_scale(self) -> tuple[str | None, Counter[str]]:
        """The mask scale most non-empty masks use, and how many use each."""
        scales: Counter[str] = Counter()
        for mask in self.label_maps:
            scale = mask_scale(mask, self.ignore_index)
            if scale is not None:
                scales[scale] += 1
        if not scales:
            return None, scales
        (first, first_count), *rest = scales.most_common()
        if rest and rest[0][1] == first_count:
            return None, scales
        return first, scales

    @cached_property
    def label_maps(self) -> list[MaskFacts]:
        """Every decoded single-channel mask that is a label map, not a picture: what dataset-wide
        inference is made from."""
        return [r.mask for r in self.rows
                if r.mask is not None and not r.mask.is_multichannel and looks_like_image(r.mask) is None]

    @cached_property
    def non_empty_label_maps(self) -> list[MaskFacts]:
        return [m for m in self.label_maps if m.foreground(self.ignore_index) > 0]

    @cached_property
    def inferred_labels(self) -> InferredLabels | None:
        """Without declared labels: the values in a large share of non-empty masks, and the contiguous run of
        integers they reach (rarer classes next to common ones stay plausible). None with too few masks."""
        if self.settings.labels is not None:
            return None
        masks = self.non_empty_label_maps
        if len(masks) < MIN_MASKS_TO_INFER:
            return None
        masks_with: Counter[float] = Counter()
        for mask in masks:
            masks_with.update(v for v in mask.values if v != self.ignore_index and v == v)
        labels = tuple(sorted({0.0} | {v for v, n in masks_with.items() if n >= LABEL_SET_SHARE * len(masks)}))
        span = labels[-1]
        seen = set(masks_with)
        while span + 1 in seen:
            span += 1
        return InferredLabels(labels, span, masks_with, len(masks))

    @cached_property
    def median_foreground_share(self) -> tuple[float, int] | None:
        """The median foreground share of non-empty masks (foreground over labelled pixels), and their count."""
        shares = []
        for mask in self.non_empty_label_maps:
            labelled = mask.labelled(self.ignore_index)
            if labelled:
                shares.append(mask.foreground(self.ignore_index) / labelled)
        if not shares:
            return None
        return statistics.median(shares), len(shares)

    @cached_property
    def kept_stats(self) -> dict[str, SplitStats]:
        """Per-split aggregates over the rows that survive filtering: what training would see."""
        return {name: split_stats(rows, self.ignore_index) for name, rows in self.by_split(self.kept_rows).items()}

    def by_split_stats(self) -> dict[str, SplitStats]:
        """Per-split row counts over every row; every other aggregate over the kept rows only, so values from
        dropped files (a picture passed as a mask, a JPEG-smeared mask) never reach the statistics."""
        return {name: replace(self.kept_stats[name], rows=len(rows))
                for name, rows in self.by_split(self.rows).items()}
