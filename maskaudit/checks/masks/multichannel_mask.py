from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context, looks_like_image
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


@row_check("M006", "multichannel-mask", Severity.ERROR, Family.MASKS)
def multichannel_mask(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Colour-coded masks: several channels whose values differ, so a class is a colour rather than an
        index. Its most frequent colours are listed. (A grey mask saved as RGB, with equal channels, is not
        reported, nor is a photo with hundreds of colours: image-as-mask is.)

    Why it breaks training:
        A loss expecting class indices gets three channels, or a loader that takes one channel merges
        classes whose colours share that channel's value.

    How to fix:
        Convert colours to class indices with an explicit colour-to-index table and save single-channel
        (or palette) PNGs.
    """
    mask = row.mask
    if mask is None or not mask.is_multichannel or looks_like_image(mask) is not None:
        return
    colors = ", ".join("(" + ",".join(str(v) for v in c) + ")" for c in mask.colors[:6])
    more = f" and {mask.distinct - 6} more" if mask.distinct > 6 else ""
    yield Hit(f"{mask.channels}-channel colour mask with {mask.distinct} colours: {colors}{more}",
              row=row.row, split=ctx.split_of(row), path=row.mask_path,
              details={"channels": mask.channels, "colors": [list(c) for c in mask.colors],
                       "color_counts": list(mask.color_counts), "distinct": mask.distinct})
