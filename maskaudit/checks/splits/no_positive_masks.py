from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, Stage, dataset_check
from maskaudit.checks.context import Context
from maskaudit.findings import Hit, Severity


@dataset_check("S001", "no-positive-masks", Severity.ERROR, Family.SPLITS, Stage.KEPT)
def no_positive_masks(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Splits in which no usable mask (after filtering) has a single foreground pixel.

    Why it breaks training:
        The model can only learn to predict background: the loss reaches its floor within an epoch and
        every metric on foreground is zero. On a validation split, Dice is undefined or trivially perfect.

    How to fix:
        Check the mask column and the mask encoding (a 0/1 mask divided by 255 becomes all zero), and that
        the annotation export did not write blank files.
    """
    for split, stats in ctx.kept_stats.items():
        if stats.masks and stats.masks == stats.empty_masks:
            yield Hit(f"none of the {stats.masks} usable masks has any foreground", split=split,
                      details={"masks": stats.masks})
