"""Accumulators for one transform forced alone, and for one step of the real pipeline."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from maskaudit.replay.stats import Histogram, MaskStats, ValueStats

MAX_VALUES_SHOWN = 16


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

    def merge(self, other: StepMeasure) -> None:
        self.runs += other.runs
        self.errors += other.errors
        self.image.merge(other.image)
        self.mask.merge(other.mask)


def shown(values: set[float]) -> list[float | int]:
    ordered = sorted(values)[:MAX_VALUES_SHOWN]
    return [int(v) if float(v).is_integer() else round(v, 6) for v in ordered]


def first_message(messages: Counter[str]) -> str | None:
    if not messages:
        return None
    return sorted(messages.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]


def leaf_record(measure: LeafMeasure) -> dict[str, Any]:
    """The replay facts of one transform: what checks read and report.json shows."""
    before, after = measure.image_in, measure.image_out
    std_in = before.std
    shift = (after.mean - before.mean) / std_in if after.finite and std_in and std_in > 0 else None
    ratio = after.std / std_in if after.finite and std_in and std_in > 0 else None
    return {
        "runs": measure.runs,
        "errors": measure.errors,
        "error": first_message(measure.messages),
        "input": before.to_dict(),
        "output": after.to_dict(),
        "mean_shift_std": None if shift is None else float(f"{shift:.6g}"),
        "std_ratio": None if ratio is None else float(f"{ratio:.6g}"),
        "mask_input": measure.mask_in.to_dict(),
        "mask_output": measure.mask_out.to_dict(),
        "nonempty_masks": measure.nonempty_in,
        "emptied_masks": measure.emptied,
        "new_mask_values": shown(measure.new_labels),
        "probe_runs": measure.probe_runs,
        "probe_new_values": shown(measure.probe_new_values),
        "misaligned": measure.misaligned,
        "alignment_checked": measure.aligned_checked,
        "histogram_before": before.histogram.to_dict() if before.histogram else None,
        "histogram_after": after.histogram.to_dict() if after.histogram else None,
    }
