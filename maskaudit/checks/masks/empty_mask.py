from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts, number
from maskaudit.findings import Hit, Severity


@row_check("M002", "empty-mask", Severity.WARNING, Family.MASKS)
def empty_mask(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Masks with no pixel other than background (0) and the ignore index.

    Why it breaks training:
        A few negative samples are healthy; many of them pull the model towards predicting background
        everywhere, and with Dice loss an empty target gives an undefined or saturated gradient.

    How to fix:
        Confirm the images truly contain nothing to segment. If they do, the annotation is missing. Use
        --drop empty-mask to leave them out, or sample them at a controlled rate.
    """
    mask = row.mask
    if mask is None or mask.is_multichannel:
        return
    if mask.foreground(ctx.ignore_index) == 0:
        yield Hit("mask has no foreground pixel", row=row.row, split=ctx.split_of(row), path=row.mask_path,
                  details={"values": [number(v) for v in mask.values]})
