from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import MIN_MASKS_TO_INFER, Context, looks_like_image
from maskaudit.checks.masks.lossy_mask import is_lossy
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity
from maskaudit.keys import MaskKind


def _large_foreground(ctx: Context, options: Options) -> NDArray[np.bool_]:
    """Label maps whose foreground share may be the inverted kind."""
    keys = ctx.all_keys
    found: NDArray[np.bool_] = (keys.mask_kind == MaskKind.LABEL_MAP) & (keys.share >= options["min_share"])
    return found


@row_check(
    "M010", "inverted-mask", Severity.WARNING, Family.MASKS,
    options={
        "min_share": (0.8, "foreground share of a mask's labelled pixels from which it may be inverted"),
        "max_median_share": (0.3, "median foreground share above which large foregrounds are normal"),
    },
    candidates=_large_foreground,
)
def inverted_mask(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Masks whose foreground covers at least min_share (80% by default) of their labelled pixels, in a
        dataset whose median non-empty mask covers at most max_median_share (30%): an outlier far above
        the dataset's own distribution, such as 96% foreground among lesion masks with a 3% median. The
        median is given for comparison. Masks with no background at all are full-mask's, and lossy masks
        (whose noise counts as foreground) are lossy-mask's.

    Why it breaks training:
        A mask saved inverted (background 1, lesion 0) teaches the model the opposite of every other
        sample; a handful of them is enough to blur the boundary the model learns.

    How to fix:
        Open the mask next to its image; if background and foreground are swapped, invert it (1 - mask)
        or re-export it. Raise max_median_share for datasets where large objects are normal.
    """
    mask = row.mask
    median = ctx.median_foreground_share
    if mask is None or mask.is_multichannel or median is None or looks_like_image(mask) is not None:
        return
    typical, masks = median
    if masks < MIN_MASKS_TO_INFER or typical > options["max_median_share"]:
        return
    labelled = mask.labelled(ctx.ignore_index)
    foreground = mask.foreground(ctx.ignore_index)
    if not labelled or foreground == labelled or is_lossy(row, ctx):
        return
    share = foreground / labelled
    if share >= options["min_share"]:
        yield Hit(
            f"{share:.1%} of labelled pixels are foreground, against a median of {typical:.1%} over {masks} "
            f"non-empty masks: background and foreground may be swapped",
            row=row.row, split=ctx.split_of(row), path=row.mask_path,
            details={"foreground_share": round(share, 6), "median_foreground_share": round(typical, 6),
                     "non_empty_masks": masks, "foreground_pixels": foreground, "labelled_pixels": labelled},
        )
