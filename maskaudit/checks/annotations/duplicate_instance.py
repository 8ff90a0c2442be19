from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A010", "duplicate-instance", Severity.WARNING, options={
    "iou": (0.9, "mask IoU above which two instances of one category on one image are one object twice (0.5 at "
            "least)"),
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
    columns = ctx.annotations
    overlaps = columns.overlaps
    reported: set[int] = set()
    for pair in np.lexsort((overlaps.earlier, overlaps.later)).tolist():
        later, earlier, value = int(overlaps.later[pair]), int(overlaps.earlier[pair]), float(overlaps.iou[pair])
        if later in reported or earlier in reported or value <= threshold:
            continue
        reported.add(later)
        other = columns.record(earlier).id
        yield ctx.annotation_hit(columns.record(later), f"overlaps annotation {other!r} of the same category with "
                                                        f"mask IoU {value:.3f}", other_annotation_id=other,
                                 iou=round(value, 4))
