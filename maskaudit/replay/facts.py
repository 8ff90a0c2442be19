"""The replay facts: what replaying the pipeline measured, as frozen records the pipeline checks read.

Values are kept as measured; they are rounded only where a report shows them (``to_dict`` and the findings'
details). ``from_dict`` reads back what ``to_dict`` wrote, so a report holds, and re-renders from report.json,
the same facts. Plain data: nothing here imports albumentations, OpenCV or the checks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
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


def _number(value: Any) -> float:
    """A stored value; NaN where there is none (report.json writes NaN and Inf as null)."""
    number = math.nan if value is None else float(value)
    return number if math.isfinite(number) else math.nan


def _optional(value: Any) -> float | None:
    number = _number(value)
    return number if math.isfinite(number) else None


def shift_and_ratio(before: ValueSummary, after: ValueSummary) -> tuple[float | None, float | None]:
    """The mean shift in input standard deviations and the std ratio from ``before`` to ``after``; None where
    either has no finite value or the input has no spread."""
    if not math.isfinite(after.mean):
        return None, None
    return _ratio(after.mean - before.mean, before.std), _ratio(after.std, before.std)


@dataclass(frozen=True)
class ValueHistogram:
    """Counts of finite values in equal bins between ``edges``; values beyond the outer edges are in the end bins."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]

    def to_dict(self) -> dict[str, list[float] | list[int]]:
        return {"edges": [rounded(e) for e in self.edges], "counts": list(self.counts)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ValueHistogram | None:
        if data is None:
            return None
        edges, counts = tuple(float(e) for e in data["edges"]), tuple(int(c) for c in data["counts"])
        if len(edges) != len(counts) + 1:
            raise ValueError(f"a histogram of {len(counts)} counts has {len(edges)} edges")
        return cls(edges, counts)


@dataclass(frozen=True)
class ValueSummary:
    """Image values pooled over many arrays: moments of the finite values and the shares of telling values (of
    the finite values; NaN and Inf of all values)."""

    dtypes: tuple[str, ...] = ()
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ValueSummary:
        dtype = str(data["dtype"])
        return cls(
            dtypes=tuple(dtype.split(",")) if dtype else (), mean=_number(data["mean"]), std=_number(data["std"]),
            minimum=_number(data["min"]), maximum=_number(data["max"]),
            negative_share=_number(data["negative_share"]), above_one_share=_number(data["above_one_share"]),
            zero_share=_number(data["zero_share"]), one_share=_number(data["one_share"]),
            nan_share=_number(data["nan_share"]), inf_share=_number(data["inf_share"]),
            grid_share=_number(data["grid_share"]),
        )


@dataclass(frozen=True)
class MaskSummary:
    """Mask labels pooled over many masks: how many labels, the first of them ascending, the foreground share
    and the share of empty masks."""

    masks: int = 0
    labels: tuple[float, ...] = ()
    label_count: int = 0
    foreground_share: float = 0.0
    empty_share: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"masks": self.masks, "labels": [_label(v) for v in self.labels[:LABELS_SHOWN]],
                "label_count": self.label_count, "foreground_share": rounded(self.foreground_share),
                "empty_share": rounded(self.empty_share)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MaskSummary:
        return cls(masks=int(data["masks"]), labels=tuple(_number(v) for v in data["labels"]),
                   label_count=int(data["label_count"]), foreground_share=_number(data["foreground_share"]),
                   empty_share=_number(data["empty_share"]))


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
    mean_shift_std: float | None = None
    std_ratio: float | None = None
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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransformFacts:
        m = data["measures"]
        return cls(
            leaf=Leaf.from_dict(data), runs=int(m["runs"]), errors=int(m["errors"]),
            error=None if m["error"] is None else str(m["error"]),
            image_in=ValueSummary.from_dict(m["input"]), image_out=ValueSummary.from_dict(m["output"]),
            mean_shift_std=_optional(m["mean_shift_std"]), std_ratio=_optional(m["std_ratio"]),
            mask_in=MaskSummary.from_dict(m["mask_input"]), mask_out=MaskSummary.from_dict(m["mask_output"]),
            nonempty_masks=int(m["nonempty_masks"]), emptied_masks=int(m["emptied_masks"]),
            new_mask_values=tuple(float(v) for v in m["new_mask_values"]), probe_runs=int(m["probe_runs"]),
            probe_new_values=tuple(float(v) for v in m["probe_new_values"]), misaligned=int(m["misaligned"]),
            alignment_checked=int(m["alignment_checked"]),
            histogram_before=ValueHistogram.from_dict(m["histogram_before"]),
            histogram_after=ValueHistogram.from_dict(m["histogram_after"]),
        )


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepFacts:
        return cls(int(data["step"]), tuple(str(t) for t in data["transforms"]), int(data["runs"]),
                   int(data["errors"]), ValueSummary.from_dict(data["image"]), MaskSummary.from_dict(data["mask"]))


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
    mean_shift_std: float | None = None
    std_ratio: float | None = None
    keys: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    rows: tuple[int, ...] = ()

    @property
    def domain(self) -> str:
        return self.source_image.domain if self.samples else "other"

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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReplayFacts:
        source, final, overall = data["input"], data["output"], data["overall"]
        return cls(
            spec=str(data["spec"]), kind=str(data["spec_kind"]), preprocess=str(data["preprocess"]),
            samples=int(data["samples"]), repeats=int(data["repeats"]), seed=int(data["seed"]),
            transforms=tuple(TransformFacts.from_dict(t) for t in data["transforms"]),
            steps=tuple(StepFacts.from_dict(s) for s in data["steps"]),
            source_image=ValueSummary.from_dict(source["image"]), source_mask=MaskSummary.from_dict(source["mask"]),
            final_image=ValueSummary.from_dict(final["image"]), final_mask=MaskSummary.from_dict(final["mask"]),
            mean_shift_std=_optional(overall["mean_shift_std"]), std_ratio=_optional(overall["std_ratio"]),
            keys=tuple(str(k) for k in data["keys"]), notes=tuple(str(n) for n in data["notes"]),
            rows=tuple(int(r) for r in data["rows"]),
        )
