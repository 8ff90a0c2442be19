"""The facts of a whole manifest, as checks see them: rows, settings, and aggregates derived once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from maskaudit.checks.base import Stage
from maskaudit.checks.dtypes import integer_range
from maskaudit.data_root import DataRoot
from maskaudit.facts import MaskFacts, RowFacts
from maskaudit.settings import Settings

if TYPE_CHECKING:
    from maskaudit.aggregates import Aggregates
    from maskaudit.facts_columns import FactsStore
    from maskaudit.keys import Keys
    from maskaudit.stats import SplitStats

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
    """What checks see. In the map: some rows' facts. In the reduce: the keys of every row, the merged
    aggregates, the facts file to read reported rows back from, and (for the split checks) the kept rows."""

    settings: Settings
    has_splits: bool = False
    root: DataRoot | None = None
    rows: Sequence[RowFacts] = ()
    keys: Keys | None = None
    aggregates: Aggregates | None = None
    facts: FactsStore | None = None
    kept: NDArray[np.bool_] | None = None

    def with_kept(self, kept: NDArray[np.bool_]) -> Context:
        return replace(self, kept=kept)

    def rows_for(self, stage: Stage) -> Sequence[RowFacts]:
        return self.rows

    def split_of(self, row: RowFacts) -> str:
        if not self.has_splits:
            return NO_SPLIT
        return row.split if row.split is not None else MISSING_SPLIT

    @property
    def totals(self) -> Aggregates:
        assert self.aggregates is not None, "checks across rows run in the reduce, over merged aggregates"
        return self.aggregates

    @property
    def split_names(self) -> list[str]:
        return list(self.totals.split_names)

    @property
    def all_keys(self) -> Keys:
        assert self.keys is not None, "checks across rows run in the reduce, over its keys"
        return self.keys

    def read(self, rows: Iterable[int]) -> dict[int, RowFacts]:
        """The facts of some rows, read back: what reported rows' messages name."""
        assert self.facts is not None, "checks across rows run in the reduce, over its facts file"
        return self.facts.rows(rows)

    @property
    def ignore_index(self) -> float | None:
        return None if self.settings.ignore_index is None else float(self.settings.ignore_index)

    @cached_property
    def dominant_scale(self) -> tuple[str | None, Counter[str]]:
        """The mask scale most non-empty masks use, and how many use each."""
        scales: Counter[str] = Counter(self.totals.scales)
        if not scales:
            return None, scales
        (first, first_count), *rest = scales.most_common()
        if rest and rest[0][1] == first_count:
            return None, scales
        return first, scales

    @cached_property
    def inferred_labels(self) -> InferredLabels | None:
        """Without declared labels: the values in a large share of non-empty masks, and the contiguous run of
        integers they reach (rarer classes next to common ones stay plausible). None with too few masks."""
        if self.settings.labels is not None:
            return None
        masks = self.totals.non_empty_masks
        if masks < MIN_MASKS_TO_INFER:
            return None
        masks_with: Counter[float] = Counter(self.totals.masks_with)
        labels = tuple(sorted({0.0} | {v for v, n in masks_with.items() if n >= LABEL_SET_SHARE * masks}))
        span = labels[-1]
        seen = set(masks_with)
        while span + 1 in seen:
            span += 1
        return InferredLabels(labels, span, masks_with, masks)

    @cached_property
    def median_foreground_share(self) -> tuple[float, int] | None:
        """The median foreground share of non-empty label maps (foreground over labelled pixels), and their
        count."""
        from maskaudit.keys import MaskKind

        keys = self.all_keys
        shares = keys.share[(keys.mask_kind == MaskKind.LABEL_MAP) & keys.non_empty]
        if not shares.size:
            return None
        return float(np.median(shares)), int(shares.size)

    @cached_property
    def kept_stats(self) -> dict[str, SplitStats]:
        """Per-split aggregates over the rows that survive filtering: what training would see."""
        from maskaudit.stats import kept_split_stats

        assert self.kept is not None, "split checks run on the kept rows"
        keys = self.all_keys
        late = keys.row[~self.kept & ~keys.dropped]  # dropped by checks across rows
        return kept_split_stats(keys, self.totals, self.kept, self.read(late.tolist()), self.ignore_index)

    def by_split_stats(self) -> dict[str, SplitStats]:
        """Per-split row counts over every row; every other aggregate over the kept rows only, so values from
        dropped files (a picture passed as a mask, a JPEG-smeared mask) never reach the statistics."""
        counts = np.bincount(self.all_keys.split, minlength=len(self.totals.split_names))
        return {name: replace(self.kept_stats[name], rows=int(counts[i]))
                for i, name in enumerate(self.totals.split_names)}
