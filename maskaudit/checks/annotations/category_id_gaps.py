from collections.abc import Iterator

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.annotations.facts import InputKind
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A013", "category-id-gaps", Severity.WARNING)
def category_id_gaps(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Category ids that are not contiguous from 0 or from 1 (COCO's own run 1..90 for 80 categories).
        The finding names the mapping from id to a contiguous index to use.

    Why it breaks training:
        A model configured with num_classes = len(categories) gets labels up to the largest id: the
        cross-entropy indexes out of range (a device-side assert on the GPU) or, with a larger head,
        wastes outputs on ids that never occur.

    How to fix:
        Map ids to contiguous indices in the dataset class (the mapping is in the details), as detectron2
        and mmdetection do, or renumber the categories in the file and its annotations together.
    """
    if ctx.data.kind is not InputKind.COCO:
        return
    for number, source in enumerate(ctx.sources):
        ids = list(ctx.category_ids.get(number, {}))
        if not ids or not all(isinstance(i, int) for i in ids):
            continue
        ordered = sorted(i for i in ids if isinstance(i, int))
        start = ordered[0]
        if start in (0, 1) and ordered == list(range(start, start + len(ordered))):
            continue
        mapping = {category: index for index, category in enumerate(ordered)}
        missing = sorted(set(range(min(start, 1), ordered[-1] + 1)) - set(ordered))
        shown = ", ".join(str(m) for m in missing[:10]) + (", ..." if len(missing) > 10 else "")
        yield Hit(f"{source.name}: {len(ordered)} categories with ids {ordered[0]}..{ordered[-1]} "
                  f"(missing {shown}); num_classes = {len(ordered)} indexes out of range on id {ordered[-1]}: map "
                  "each id to its position in sorted ids (see details)",
                  split=source.split, details={"file": source.name, "categories": len(ordered),
                                               "largest_id": ordered[-1], "missing": missing[:100],
                                               "mapping": {str(k): v for k, v in mapping.items()}})
