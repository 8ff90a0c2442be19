from collections.abc import Iterator

from maskaudit.checks.base import Options
from maskaudit.checks.pipeline import pipeline_check
from maskaudit.findings import Hit, Severity
from maskaudit.replay.facts import ReplayFacts, ValueSummary, rounded


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
        before, after = facts.image_in, facts.image_out
        low = _clipped(before.negative_share, after.negative_share, after.zero_share - before.zero_share,
                       after.nan_share, options["min_share"])
        high = _clipped(before.above_one_share, after.above_one_share, after.one_share - before.one_share,
                        after.nan_share, options["min_share"])
        if not (low or high):
            continue
        bounds = " and ".join(part for part, hit in (("below 0", low), ("above 1", high)) if hit)
        yield Hit(
            f"{facts.label} clips float input ({facts.input_domain}) {bounds}: negative values "
            f"{before.negative_share:.1%} -> {after.negative_share:.1%}, values above 1 "
            f"{before.above_one_share:.1%} -> {after.above_one_share:.1%}; range "
            f"[{before.minimum:.3g}, {before.maximum:.3g}] -> [{after.minimum:.3g}, {after.maximum:.3g}]",
            transform=facts.label,
            details={"before": _range(before), "after": _range(after), "input_domain": facts.input_domain},
        )


def _clipped(outside_before: float, outside_after: float, piled: float, nan_after: float, minimum: float) -> bool:
    """Whether the values outside a bound (a share of the input) came out pinned at it, not as NaN."""
    lost = outside_before
    if lost < minimum or outside_after > 0.1 * lost:
        return False
    return piled >= 0.5 * lost and nan_after < 0.5 * lost


def _range(values: ValueSummary) -> dict[str, float]:
    return {"min": rounded(values.minimum), "max": rounded(values.maximum),
            "negative_share": rounded(values.negative_share), "above_one_share": rounded(values.above_one_share)}
