from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A006", "instance-out-of-bounds", Severity.ERROR, options={
    "tolerance": (1.0, "pixels a bbox or polygon may reach beyond the image edge (rounding of float coordinates)"),
})
def instance_out_of_bounds(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Instances whose bbox or polygon reaches beyond the image's width and height (as its image record
        declares them) by more than tolerance pixels, 1 by default, or starts at a negative coordinate.

    Why it breaks training:
        pycocotools clips the polygon to the image, so the mask silently loses what lies outside while the
        bbox keeps it: box and mask targets disagree, and box regression learns to predict beyond the
        frame. Coordinates far outside usually mean the annotation belongs to a resized or other image.

    How to fix:
        Clip the coordinates to the image, or check that the annotation belongs to this image at this
        size; the filtered file leaves these annotations out.
    """
    tolerance = options["tolerance"]
    columns, row = ctx.annotations, ctx.annotation_image
    size = np.where((row >= 0)[:, None], ctx.image_sizes[np.maximum(row, 0)], 0) if len(row) else np.zeros((0, 2))
    heights, widths = size[:, 0], size[:, 1]
    box, extent = columns.bbox, columns.extent
    beyond = np.zeros(len(columns), dtype=np.bool_)
    for left, top, right, bottom in ((box[:, 0], box[:, 1], box[:, 0] + box[:, 2], box[:, 1] + box[:, 3]),
                                     (extent[:, 0], extent[:, 1], extent[:, 2], extent[:, 3])):
        beyond |= ((left < -tolerance) | (top < -tolerance) | (right > widths + tolerance)
                   | (bottom > heights + tolerance))
    for annotation in columns.records(np.flatnonzero(beyond & (heights > 0))):
        image = ctx.image_of(annotation)
        assert image is not None and image.size is not None
        height, width = image.size
        reaches = []
        if annotation.bbox is not None:
            x, y, w, h = annotation.bbox
            reaches.append(("bbox", (x, y, x + w, y + h)))
        if annotation.extent is not None:
            reaches.append(("polygon", annotation.extent))
        for what, (x0, y0, x1, y1) in reaches:
            if x0 < -tolerance or y0 < -tolerance or x1 > width + tolerance or y1 > height + tolerance:
                yield ctx.annotation_hit(
                    annotation, f"{what} spans x {x0:g}..{x1:g}, y {y0:g}..{y1:g} outside the {width}x{height} "
                                f"image", what=what, extent=[x0, y0, x1, y1], image_size=[height, width])
                break
