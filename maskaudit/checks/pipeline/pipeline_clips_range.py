from collections.abc import Iterator, Mapping
from typing import Any

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.record import ReplayFacts


@pipeline_check(
    "P003", "pipeline-clips-range", Severity.ERROR,
    options={"min_share": (0.01, "share of input values outside [0,1] from which clipping them counts")},
)
def pipeline_clips_range(replay: ReplayFacts, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        A transform that clips float input to a range the data does not live in: values below 0 (or
        above 1) come out pinned at the bound. Most pixel-level transforms of albumentations 2 clip float
        input to [0,1], which erases every negative value of z-scored data.

    Why it breaks training:
        Half of a z-scored image is negative; after the clip it is all zero, the mean moves by about 0.4
        standard deviations and the contrast below the mean is gone. The model trains on images unlike
        the validation images, and nothing in the logs says so.

    How to fix:
        Run intensity transforms before normalisation (on uint8 or [0,1] data) and normalise last, or
        write the transform for the data's real range.
    """
    for facts in replay.transforms:
        if not facts.measured or not facts.float_input:
            continue
        before, after = facts.measures["input"], facts.measures["output"]
        low = _clipped(before, after, "negative_share", "zero_share", options["min_share"])
        high = _clipped(before, after, "above_one_share", "one_share", options["min_share"])
        if not (low or high):
            continue
        bounds = " and ".join(part for part, hit in (("below 0", low), ("above 1", high)) if hit)
        yield Hit(
            f"{facts.label} clips float input ({facts.input_domain}) {bounds}: negative values "
            f"{before['negative_share']:.1%} -> {after['negative_share']:.1%}, values above 1 "
            f"{before['above_one_share']:.1%} -> {after['above_one_share']:.1%}; range "
            f"[{before['min']:.3g}, {before['max']:.3g}] -> [{after['min']:.3g}, {after['max']:.3g}]",
            transform=facts.label,
            details={"before": {k: before[k] for k in ("min", "max", "negative_share", "above_one_share")},
                     "after": {k: after[k] for k in ("min", "max", "negative_share", "above_one_share")},
                     "input_domain": facts.input_domain},
        )


def _clipped(before: Mapping[str, Any], after: Mapping[str, Any], outside: str, bound: str, minimum: float) -> bool:
    lost = before[outside]
    if lost < minimum or after[outside] > 0.1 * lost:
        return False
    piled = after[bound] - before[bound]
    return bool(piled >= 0.5 * lost and after["nan_share"] < 0.5 * lost)
