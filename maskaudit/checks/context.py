"""The facts of a whole manifest, as checks see them: rows, settings, and aggregates derived once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from maskaudit.checks.base import Stage
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
        for row in self.rows:
            if row.mask is not None:
                scale = mask_scale(row.mask, self.ignore_index)
                if scale is not None:
                    scales[scale] += 1
        if not scales:
            return None, scales
        (first, first_count), *rest = scales.most_common()
        if rest and rest[0][1] == first_count:
            return None, scales
        return first, scales

    @cached_property
    def kept_stats(self) -> dict[str, SplitStats]:
        """Per-split aggregates over the rows that survive filtering: what training would see."""
        return {name: split_stats(rows, self.ignore_index) for name, rows in self.by_split(self.kept_rows).items()}

    def by_split_stats(self) -> dict[str, SplitStats]:
        """Per-split aggregates over every row, kept or not."""
        return {name: split_stats(rows, self.ignore_index) for name, rows in self.by_split(self.rows).items()}
