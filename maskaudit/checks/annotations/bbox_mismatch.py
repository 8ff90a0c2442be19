from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A008", "bbox-mismatch", Severity.WARNING, options={
    "box_tolerance": (2.0, "pixels any side of the bbox may differ from the segmentation's bounds"),
    "area_tolerance": (0.1, "share by which area may differ from the decoded mask's pixel count"),
})
def bbox_mismatch(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Instances whose bbox differs from the bounds of their decoded segmentation by more than
        box_tolerance pixels on a side (2 by default), or whose area differs from the mask's pixel count
        by more than area_tolerance (10% by default).

    Why it breaks training:
        Detection heads regress the bbox while mask heads learn the segmentation: two targets for one
        object that disagree teach both badly. COCO evaluation buckets instances into small, medium and
        large by area, so a wrong area moves instances between buckets and ignores crowd regions wrongly.

    How to fix:
        Recompute bbox and area from the segmentation (pycocotools.mask.toBbox and area of its RLE).
    """
    box_tolerance, area_tolerance = options["box_tolerance"], options["area_tolerance"]
    columns = ctx.annotations
    boxes, masks, mask_pixels = columns.bbox, columns.mask_bbox, columns.mask_area.astype(np.float64)
    apart = np.abs(boxes - masks)
    apart[:, 2:] = np.abs((boxes[:, :2] + boxes[:, 2:]) - (masks[:, :2] + masks[:, 2:]))
    off_box = (boxes[:, 2] > 0) & (boxes[:, 3] > 0) & (apart.max(axis=1, initial=0.0) > box_tolerance)
    off_area = np.abs(columns.area - mask_pixels) > area_tolerance * mask_pixels
    candidates = (mask_pixels > 0) & ~np.isnan(masks[:, 0]) & (off_box | off_area)
    for annotation in columns.records(np.flatnonzero(candidates)):
        bounds, pixels = annotation.mask_bbox, annotation.mask_area
        if bounds is None or not pixels or annotation.problem is not None:
            continue
        box = annotation.bbox
        if box is not None and box[2] > 0 and box[3] > 0:
            sides = _sides(box), _sides(bounds)
            off = max(abs(a - b) for a, b in zip(*sides, strict=True))
            if off > box_tolerance:
                yield ctx.annotation_hit(
                    annotation, f"bbox {_text(box)} is {off:g} px off the segmentation's bounds {_text(bounds)}",
                    bbox=list(box), segmentation_bbox=list(bounds))
                continue
        area = annotation.area
        if area is not None and abs(area - pixels) > area_tolerance * pixels:
            yield ctx.annotation_hit(annotation, f"area {area:g} differs from the mask's {pixels} pixels by "
                                                 f"{abs(area - pixels) / pixels:.0%}", area=area, mask_area=pixels)


def _sides(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x, y, w, h = box
    return x, y, x + w, y + h


def _text(box: tuple[float, float, float, float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in box) + "]"
