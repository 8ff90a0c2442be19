from collections import defaultdict
from collections.abc import Iterator

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.annotations.facts import AnnotationFacts, Key
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A010", "duplicate-instance", Severity.WARNING, options={
    "iou": (0.9, "mask IoU above which two instances of one category on one image are one object twice"),
})
def duplicate_instance(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Two instances of the same category on the same image whose masks overlap with an IoU above iou
        (0.9 by default): one object annotated twice, typically by two annotators or a merge of exports.
        The later of each pair is reported, naming the earlier.

    Why it breaks training:
        Matching assigns one prediction to one ground truth: the second copy is an unmatched positive,
        so training pushes for a duplicate detection that non-maximum suppression then removes, and
        evaluation counts a miss the model cannot avoid.

    How to fix:
        Delete one of each pair (keep the one drawn more carefully).
    """
    threshold = options["iou"]
    groups: dict[tuple[int, Key, Key], list[AnnotationFacts]] = defaultdict(list)
    for annotation in ctx.data.annotations:
        if annotation.rle and annotation.mask_area and annotation.problem is None:
            groups[(annotation.source, annotation.image_id, annotation.category_id)].append(annotation)
    for members in groups.values():
        reported: set[int] = set()
        for i, later in enumerate(members):
            for earlier in members[:i]:
                if earlier.index in reported or earlier.decoded_size != later.decoded_size:
                    continue
                if _bound(earlier, later) <= threshold:
                    continue
                value = _iou(earlier, later)
                if value > threshold:
                    reported.add(later.index)
                    yield ctx.annotation_hit(later, f"overlaps annotation {earlier.id!r} of the same category with "
                                                    f"mask IoU {value:.3f}", other_annotation_id=earlier.id,
                                             iou=round(value, 4))
                    break


def _bound(a: AnnotationFacts, b: AnnotationFacts) -> float:
    """An upper bound on the masks' IoU from their boxes: the intersection of the boxes over the larger mask."""
    assert a.mask_bbox is not None and b.mask_bbox is not None and a.mask_area and b.mask_area
    ax, ay, aw, ah = a.mask_bbox
    bx, by, bw, bh = b.mask_bbox
    overlap = max(0.0, min(ax + aw, bx + bw) - max(ax, bx)) * max(0.0, min(ay + ah, by + bh) - max(ay, by))
    return overlap / max(a.mask_area, b.mask_area)


def _iou(a: AnnotationFacts, b: AnnotationFacts) -> float:
    from pycocotools import mask as coco_mask  # the coco extra: imported only when annotation files are read

    assert a.decoded_size is not None
    size = list(a.decoded_size)
    found = coco_mask.iou([{"size": size, "counts": a.rle}], [{"size": size, "counts": b.rle}], [0])
    return float(found[0][0])
