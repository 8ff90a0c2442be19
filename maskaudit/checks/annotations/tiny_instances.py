from collections import Counter
from collections.abc import Iterator

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.annotations.facts import Key
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
    totals: Counter[tuple[str, Key]] = Counter()
    tiny: Counter[tuple[str, Key]] = Counter()
    for annotation in ctx.usable_annotations:
        if annotation.mask_area is None or annotation.iscrowd:
            continue
        key = (ctx.split_of(annotation), annotation.category_id)
        totals[key] += 1
        if annotation.mask_area <= max_area:
            tiny[key] += 1
    for (split, category), total in totals.items():
        share = tiny[(split, category)] / total
        if tiny[(split, category)] and share > limit:
            yield Hit(f"category {category!r}: {tiny[(split, category)]} of {total} instances ({share:.0%}) cover "
                      f"at most {max_area:g} pixels", split=split,
                      details={"category_id": category, "instances": total, "tiny": tiny[(split, category)],
                               "share": round(share, 6), "max_area": max_area})
