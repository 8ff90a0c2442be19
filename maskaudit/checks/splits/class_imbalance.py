import math
from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, Stage, dataset_check
from maskaudit.checks.context import Context, is_fractional
from maskaudit.facts import number
from maskaudit.findings import Hit, Severity


@dataset_check("S003", "class-imbalance", Severity.WARNING, Family.SPLITS, Stage.KEPT,
               options={"min_share": (0.01, "foreground share of a label below which it is reported")})
def class_imbalance(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Labels whose pixels make up less than min_share (1% by default) of a split's usable labelled
        pixels (only declared labels when --labels is given: other values are unexpected-label's). Each
        finding gives the share, the BCE pos_weight that balances it (background / foreground pixels), and
        what a collapsed model scores: the BCE of a constant prediction at the foreground share, and the
        Dice of an all-zero prediction.

    Why it breaks training:
        Without weighting, predicting background everywhere is a near-perfect solution for the loss: BCE
        falls to the values given here while detections drop to zero. A run whose loss sits at these values
        has collapsed.

    How to fix:
        Pass the suggested pos_weight to BCEWithLogitsLoss, or use Dice, focal or Tversky loss, and sample
        foreground-bearing crops.
    """
    limit = options["min_share"]
    declared = None if ctx.settings.labels is None else {float(v) for v in ctx.settings.labels}
    for split, stats in ctx.kept_stats.items():
        total = stats.labelled_pixels
        if not total:
            continue
        empty_share = stats.empty_share
        for label, share in stats.foreground_share().items():
            if share <= 0 or share >= limit or is_fractional(label) or (
                    declared is not None and label not in declared):
                continue
            foreground = stats.label_pixels[label]
            background = total - foreground
            bce = -(share * math.log(share) + (1 - share) * math.log(1 - share))
            yield Hit(
                f"label {number(label)} covers {share:.4%} of pixels; BCE pos_weight {background / foreground:.1f}; "
                f"a collapsed model scores BCE {bce:.4f} and Dice 0.0 (all-zero prediction)",
                split=split,
                details={
                    "label": number(label),
                    "share": round(share, 8),
                    "foreground_pixels": foreground,
                    "background_pixels": background,
                    "pos_weight": round(background / foreground, 4),
                    "bce_constant_prediction": round(bce, 6),
                    "dice_all_zero": 0.0,
                    "dice_all_zero_per_image_mean": round(empty_share, 6),
                },
            )
