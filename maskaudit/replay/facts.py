"""The replay facts: what replaying the pipeline measured, as frozen records the pipeline checks read.

Values are kept as measured; they are rounded only where a report shows them (``to_dict`` and the findings'
details). Plain data: nothing here imports albumentations, OpenCV or the checks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from maskaudit.replay.leaf import NEAREST, Leaf
from maskaudit.replay.preprocess import input_domain

METHOD = (
    "Each transform is forced alone (p=1) on every sample and repeat, on the data as it reaches it in the real "
    "pipeline; the steps then run at their real probabilities, each container and transform with its own "
    "generator, reseeded per sample, repeat and step."
)
SIGNIFICANT = 6
VALUES_SHOWN = 16
LABELS_SHOWN = 32


def rounded(value: float) -> float:
    """A measured value as reports show it: six significant digits (NaN and Inf unchanged)."""
    if not math.isfinite(value):
        return value
    return float(f"{value:.{SIGNIFICANT}g}")


def shown(values: Iterable[float]) -> list[float | int]:
    """The first values, ascending, as reports list them."""
    ordered = sorted(values)[:VALUES_SHOWN]
    return [int(v) if float(v).is_integer() else round(v, 6) for v in ordered]


def _label(value: float) -> float | int:
    return int(value) if math.isfinite(value) and float(value).is_integer() else rounded(value)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if math.isfinite(part) and math.isfinite(whole) and whole > 0 else None


@dataclass(frozen=True)
class ValueHistogram:
    """Counts of finite values in HISTOGRAM_BINS equal bins from ``low`` to ``high`` (the end bins hold the rest)."""

    low: float
    high: float
    counts: tuple[int, ...]

    @property
    def edges(self) -> tuple[float, ...]:
        step = (self.high - self.low) / len(self.counts)
        return tuple(self.low + i * step for i in range(len(self.counts) + 1))

    def to_dict(self) -> dict[str, list[float] | list[int]]:
        return {"edges": [rounded(e) for e in self.edges], "counts": list(self.counts)}


@dataclass(frozen=True)
class ValueSummary:
    """Image values pooled over many arrays: moments of the finite values and the shares of telling values (of
    the finite values; NaN and Inf of all values)."""

    dtypes: tuple[str, ...] = ()
    values: int = 0
    finite: int = 0
    mean: float = math.nan
    std: float = math.nan
    minimum: float = math.nan
    maximum: float = math.nan
    negative_share: float = 0.0
    above_one_share: float = 0.0
    zero_share: float = 0.0
    one_share: float = 0.0
    nan_share: float = 0.0
    inf_share: float = 0.0
    grid_share: float = 0.0

    @property
    def dtype(self) -> str:
        return ",".join(sorted(self.dtypes))

    @property
    def is_float(self) -> bool:
        return "float" in self.dtype

    @property
    def non_finite_share(self) -> float:
        return self.nan_share + self.inf_share

    @property
    def domain(self) -> str:
        """uint8 0-255, float 0-1, z-scored or other."""
        moments = (self.minimum, self.maximum, self.mean, self.std)
        if not all(math.isfinite(v) for v in moments):
            return "other"
        return input_domain(self.dtype if len(self.dtypes) <= 1 else "mixed", *moments)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dtype": self.dtype, "mean": rounded(self.mean), "std": rounded(self.std),
            "min": rounded(self.minimum), "max": rounded(self.maximum),
            "negative_share": rounded(self.negative_share), "above_one_share": rounded(self.above_one_share),
            "zero_share": rounded(self.zero_share), "one_share": rounded(self.one_share),
            "nan_share": rounded(self.nan_share), "inf_share": rounded(self.inf_share),
            "grid_share": rounded(self.grid_share),
        }


@dataclass(frozen=True)
class MaskSummary:
    """Mask labels pooled over many masks: the label set, the foreground share and the share of empty masks."""

    masks: int = 0
    labels: tuple[float, ...] = ()
    foreground_share: float = 0.0
    empty_share: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"masks": self.masks, "labels": [_label(v) for v in self.labels[:LABELS_SHOWN]],
                "label_count": len(self.labels), "foreground_share": rounded(self.foreground_share),
                "empty_share": rounded(self.empty_share)}


@dataclass(frozen=True)
class TransformFacts:
    """One transform forced alone on every sample and repeat: its image and mask before and after, what it
    emptied or added to masks, the alignment probe, and how often it raised."""

    leaf: Leaf
    runs: int
    errors: int
    error: str | None
    image_in: ValueSummary
    image_out: ValueSummary
    mask_in: MaskSummary = MaskSummary()
    mask_out: MaskSummary = MaskSummary()
    nonempty_masks: int = 0
    emptied_masks: int = 0
    new_mask_values: tuple[float, ...] = ()
    probe_runs: int = 0
    probe_new_values: tuple[float, ...] = ()
    misaligned: int = 0
    alignment_checked: int = 0
    histogram_before: ValueHistogram | None = None
    histogram_after: ValueHistogram | None = None

    @property
    def label(self) -> str:
        return self.leaf.label

    @property
    def name(self) -> str:
        return self.leaf.name

    @property
    def index(self) -> int:
        return self.leaf.index

    @property
    def effective_p(self) -> float:
        return self.leaf.effective_p

    @property
    def measured(self) -> bool:
        return self.runs > self.errors

    @property
    def float_input(self) -> bool:
        return self.image_in.is_float

    @property
    def input_domain(self) -> str:
        return self.image_in.domain

    @property
    def nearest_mask(self) -> bool:
        return self.leaf.mask_interpolation is None or self.leaf.mask_interpolation in NEAREST

    @property
    def mean_shift_std(self) -> float | None:
        """The output's mean minus the input's, in input standard deviations."""
        if not self.image_out.finite:
            return None
        return _ratio(self.image_out.mean - self.image_in.mean, self.image_in.std)

    @property
    def std_ratio(self) -> float | None:
        """The output's standard deviation over the input's."""
        return _ratio(self.image_out.std, self.image_in.std) if self.image_out.finite else None

    def to_dict(self) -> dict[str, Any]:
        shift, ratio = self.mean_shift_std, self.std_ratio
        measures = {
            "runs": self.runs, "errors": self.errors, "error": self.error,
            "input": self.image_in.to_dict(), "output": self.image_out.to_dict(),
            "mean_shift_std": None if shift is None else rounded(shift),
            "std_ratio": None if ratio is None else rounded(ratio),
            "mask_input": self.mask_in.to_dict(), "mask_output": self.mask_out.to_dict(),
            "nonempty_masks": self.nonempty_masks, "emptied_masks": self.emptied_masks,
            "new_mask_values": shown(self.new_mask_values), "probe_runs": self.probe_runs,
            "probe_new_values": shown(self.probe_new_values), "misaligned": self.misaligned,
            "alignment_checked": self.alignment_checked,
            "histogram_before": self.histogram_before.to_dict() if self.histogram_before else None,
            "histogram_after": self.histogram_after.to_dict() if self.histogram_after else None,
        }
        return {**self.leaf.to_dict(), "input_domain": self.input_domain if self.measured else None,
                "measures": measures}


@dataclass(frozen=True)
class StepFacts:
    """One step of the real pipeline, run at its real probabilities: the image and masks after it."""

    index: int
    transforms: tuple[str, ...]
    runs: int
    errors: int
    image: ValueSummary
    mask: MaskSummary

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.index, "transforms": list(self.transforms), "runs": self.runs, "errors": self.errors,
                "image": self.image.to_dict(), "mask": self.mask.to_dict()}


@dataclass(frozen=True)
class ReplayFacts:
    """A replay of one pipeline on sampled rows: every transform alone, the real steps, and the whole pipeline's
    input and output."""

    spec: str
    kind: str
    preprocess: str
    samples: int
    repeats: int
    seed: int
    transforms: tuple[TransformFacts, ...]
    steps: tuple[StepFacts, ...] = ()
    source_image: ValueSummary = ValueSummary()
    source_mask: MaskSummary = MaskSummary()
    final_image: ValueSummary = ValueSummary()
    final_mask: MaskSummary = MaskSummary()
    keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()

    @property
    def domain(self) -> str:
        return self.source_image.domain if self.samples else "other"

    @property
    def mean_shift_std(self) -> float | None:
        """The whole pipeline's output mean minus its input mean, in input standard deviations."""
        if not math.isfinite(self.final_image.mean):
            return None
        return _ratio(self.final_image.mean - self.source_image.mean, self.source_image.std)

    @property
    def std_ratio(self) -> float | None:
        return _ratio(self.final_image.std, self.source_image.std) if math.isfinite(self.final_image.mean) else None

    def to_dict(self) -> dict[str, Any]:
        shift, ratio = self.mean_shift_std, self.std_ratio
        return {
            "spec": self.spec, "spec_kind": self.kind, "preprocess": self.preprocess,
            "input_domain": self.domain, "samples": self.samples, "repeats": self.repeats, "seed": self.seed,
            "rows": list(self.rows), "keys": list(self.keys), "notes": list(self.notes),
            "method": METHOD,
            "transforms": [t.to_dict() for t in self.transforms],
            "steps": [s.to_dict() for s in self.steps],
            "input": {"image": self.source_image.to_dict(), "mask": self.source_mask.to_dict()},
            "output": {"image": self.final_image.to_dict(), "mask": self.final_mask.to_dict()},
            "overall": {"mean_shift_std": None if shift is None else rounded(shift),
                        "std_ratio": None if ratio is None else rounded(ratio)},
        }
