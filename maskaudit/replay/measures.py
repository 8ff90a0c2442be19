"""Accumulators for one transform forced alone, and for one step of the real pipeline."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from maskaudit.replay.facts import StepFacts, TransformFacts, shift_and_ratio
from maskaudit.replay.leaf import Leaf
from maskaudit.replay.stats import Histogram, MaskStats, ValueStats


@dataclass
class LeafMeasure:
    runs: int = 0
    errors: int = 0
    messages: Counter[str] = field(default_factory=Counter)
    image_in: ValueStats = field(default_factory=ValueStats)
    image_out: ValueStats = field(default_factory=ValueStats)
    mask_in: MaskStats = field(default_factory=MaskStats)
    mask_out: MaskStats = field(default_factory=MaskStats)
    nonempty_in: int = 0
    emptied: int = 0
    new_labels: set[float] = field(default_factory=set)
    probe_runs: int = 0
    probe_new_values: set[float] = field(default_factory=set)
    misaligned: int = 0
    aligned_checked: int = 0

    @classmethod
    def spanning(cls, span: tuple[float, float] | None) -> LeafMeasure:
        """A measure whose before/after values are also counted in histograms over `span`."""
        measure = cls()
        if span is not None:
            measure.image_in.histogram = Histogram(*span)
            measure.image_out.histogram = Histogram(*span)
        return measure

    def facts(self, leaf: Leaf) -> TransformFacts:
        """What was measured, as the pipeline checks read it."""
        before, after = self.image_in, self.image_out
        image_in, image_out = before.summary(), after.summary()
        shift, ratio = shift_and_ratio(image_in, image_out)
        return TransformFacts(
            leaf=leaf, runs=self.runs, errors=self.errors, error=first_message(self.messages),
            image_in=image_in, image_out=image_out, mean_shift_std=shift, std_ratio=ratio,
            mask_in=self.mask_in.summary(), mask_out=self.mask_out.summary(),
            nonempty_masks=self.nonempty_in, emptied_masks=self.emptied,
            new_mask_values=tuple(sorted(self.new_labels)), probe_runs=self.probe_runs,
            probe_new_values=tuple(sorted(self.probe_new_values)), misaligned=self.misaligned,
            alignment_checked=self.aligned_checked,
            histogram_before=before.histogram.facts() if before.histogram else None,
            histogram_after=after.histogram.facts() if after.histogram else None,
        )

    def merge(self, other: LeafMeasure) -> None:
        for name in ("runs", "errors", "nonempty_in", "emptied", "probe_runs", "misaligned", "aligned_checked"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.messages.update(other.messages)
        self.image_in.merge(other.image_in)
        self.image_out.merge(other.image_out)
        self.mask_in.merge(other.mask_in)
        self.mask_out.merge(other.mask_out)
        self.new_labels |= other.new_labels
        self.probe_new_values |= other.probe_new_values


@dataclass
class StepMeasure:
    runs: int = 0
    errors: int = 0
    image: ValueStats = field(default_factory=ValueStats)
    mask: MaskStats = field(default_factory=MaskStats)

    def facts(self, index: int, transforms: Sequence[str]) -> StepFacts:
        return StepFacts(index, tuple(transforms), self.runs, self.errors, self.image.summary(), self.mask.summary())

    def merge(self, other: StepMeasure) -> None:
        self.runs += other.runs
        self.errors += other.errors
        self.image.merge(other.image)
        self.mask.merge(other.mask)


def first_message(messages: Counter[str]) -> str | None:
    if not messages:
        return None
    return sorted(messages.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
