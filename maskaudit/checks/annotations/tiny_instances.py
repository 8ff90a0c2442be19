from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.columns import factorize
from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A014", "tiny-instances", Severity.WARNING, kept=True, options={
    "max_area": (16, "mask area in pixels at or below which an instance is tiny"),
    "max_share": (0.2, "share of a category's instances in a split that may be tiny"),
})
def tiny_instances(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Categories of which more than max_share (20% by default) of the instances in a split cover at most
        max_area pixels (16, a 4x4 patch, by default), counted over what the filtered file keeps.

    Why it breaks training:
        At the stride of a detector's coarsest feature maps such an instance is less than a cell: no anchor
        matches it, mask targets downsample to nothing, and the category's loss is dominated by objects the
        model cannot resolve. Often they are annotation slips (a click instead of a drag).

    How to fix:
        Remove the slips, raise the input resolution or use a higher-resolution feature level (FPN P2), or
        mark the tiny ones iscrowd so they are ignored.
    """
    max_area, limit = options["max_area"], options["max_share"]
    columns = ctx.annotations
    usable = ctx.usable_annotations
    usable = usable[(columns.mask_area[usable] >= 0) & ~columns.iscrowd[usable]]
    split_numbers, names = ctx.annotation_split
    categories, category_keys = factorize(columns.category_id[usable])
    width = max(1, len(category_keys))
    pair = split_numbers[usable] * width + categories
    pairs, first, totals = np.unique(pair, return_index=True, return_counts=True)
    tiny = np.bincount(np.searchsorted(pairs, pair[columns.mask_area[usable] <= max_area]), minlength=len(pairs))
    for number in np.argsort(first, kind="stable").tolist():
        split, category = divmod(int(pairs[number]), width)
        total, small = int(totals[number]), int(tiny[number])
        share = small / total
        if small and share > limit:
            yield Hit(f"category {category_keys[category]!r}: {small} of {total} instances ({share:.0%}) cover "
                      f"at most {max_area:g} pixels", split=names[split],
                      details={"category_id": category_keys[category], "instances": total, "tiny": small,
                               "share": round(share, 6), "max_area": max_area})
