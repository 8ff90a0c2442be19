from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


@row_check("M004", "tiny-foreground", Severity.INFO, Family.MASKS,
           options={"min_pixels": (16, "masks with fewer foreground pixels than this are reported")})
def tiny_foreground(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Masks whose foreground covers only a handful of pixels (fewer than min_pixels, 16 by default).

    Why it breaks training:
        A few pixels are often annotation noise (a stray click), and a random crop or a downscale removes
        them, turning the sample into a silent negative.

    How to fix:
        Check these masks by eye. Keep real small lesions and use a foreground-aware crop
        (CropNonEmptyMaskIfExists); delete stray pixels.
    """
    mask = row.mask
    if mask is None or mask.is_multichannel:
        return
    foreground = mask.foreground(ctx.ignore_index)
    limit = int(options["min_pixels"])
    if 0 < foreground < limit:
        yield Hit(f"only {foreground} foreground pixel(s) (fewer than {limit})", row=row.row,
                  split=ctx.split_of(row), path=row.mask_path, details={"foreground_pixels": foreground})
