from collections.abc import Iterator

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
    for annotation in ctx.data.annotations:
        image = ctx.image_of(annotation)
        if image is None or image.size is None:
            continue
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
