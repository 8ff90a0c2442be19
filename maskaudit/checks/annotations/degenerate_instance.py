from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.annotations.facts import AnnotationFacts, SegmentationKind
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A005", "degenerate-instance", Severity.ERROR)
def degenerate_instance(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Instances with nothing to learn from or that cannot be read: a polygon with fewer than 3 points, a
        segmentation that decodes to zero pixels, a bbox with a width or height that is not positive, a
        missing segmentation, or one pycocotools cannot read (malformed polygons, an RLE whose counts do
        not fill its size).

    Why it breaks training:
        pycocotools reads a 2-point polygon (4 numbers) as a box, and an empty mask or box yields a
        positive with no pixels: box regression divides by a zero width (NaN losses), mask losses average
        over nothing, and a malformed RLE raises in the loader or decodes to garbage.

    How to fix:
        Redraw or delete the instance; the filtered file leaves these annotations out.
    """
    columns = ctx.annotations
    short = np.zeros(len(columns), dtype=np.bool_)
    owners = np.repeat(np.arange(len(columns)), np.diff(columns.part_start))
    short[owners[columns.parts < 3]] = True
    polygon = columns.is_kind(SegmentationKind.POLYGON)
    candidates = (columns.has_problem() | columns.is_kind(SegmentationKind.MISSING) | short
                  | (polygon & (np.diff(columns.part_start) == 0)) | (columns.mask_area == 0)
                  | (columns.bbox[:, 2] <= 0) | (columns.bbox[:, 3] <= 0))
    for annotation in columns.records(np.flatnonzero(candidates)):
        reason = _reason(annotation)
        if reason is not None:
            yield ctx.annotation_hit(annotation, reason, segmentation=annotation.kind.value)


def _reason(annotation: AnnotationFacts) -> str | None:
    if annotation.problem is not None:
        return f"segmentation cannot be read: {annotation.problem}"
    if annotation.kind is SegmentationKind.MISSING:
        return "has no segmentation"
    short = [i for i, points in enumerate(annotation.polygon_points) if points < 3]
    if short:
        counts = ", ".join(str(annotation.polygon_points[i]) for i in short)
        return f"polygon {short[0]} has fewer than 3 points ({counts}): it encloses no area"
    if annotation.kind is SegmentationKind.POLYGON and not annotation.polygon_points:
        return "segmentation is an empty list of polygons"
    if annotation.mask_area == 0:
        return f"{annotation.kind.value} segmentation covers zero pixels"
    box = annotation.bbox
    if box is not None and (box[2] <= 0 or box[3] <= 0):
        return f"bbox {list(box)} has a width or height that is not positive"
    return None
