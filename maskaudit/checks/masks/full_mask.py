from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context, looks_like_image
from maskaudit.facts import RowFacts, number
from maskaudit.findings import Hit, Severity


@row_check("M003", "full-mask", Severity.WARNING, Family.MASKS)
def full_mask(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Masks in which every pixel is foreground: there is no background (0) pixel at all.

    Why it breaks training:
        Usually an inverted mask, a mask saved with the wrong threshold, or an image saved in place of its
        mask. It teaches the model to mark everything.

    How to fix:
        Open the mask next to its image; invert or re-export it, or drop the row.
    """
    mask = row.mask
    if mask is None or mask.is_multichannel or looks_like_image(mask) is not None:
        return
    foreground = mask.foreground(ctx.ignore_index)
    if foreground > 0 and mask.zero_pixels == 0:
        yield Hit(f"all {foreground} labelled pixels are foreground", row=row.row, split=ctx.split_of(row),
                  path=row.mask_path, details={"values": [number(v) for v in mask.values]})
