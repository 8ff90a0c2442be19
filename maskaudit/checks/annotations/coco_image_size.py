from collections.abc import Iterator

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.checks.base import Options
from maskaudit.checks.loaders import geometries
from maskaudit.findings import Hit, Severity


@annotation_check("A004", "coco-image-size", Severity.ERROR)
def coco_image_size(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Image records whose width and height differ from the decoded file's, or match it only after the
        file's EXIF orientation is applied (or are missing). Images that cannot be decoded are reported by
        image-not-found and image-unreadable instead.

    Why it breaks training:
        Polygons are rasterised and RLE masks decoded at the JSON's size: against pixels of another size
        every mask is shifted, cropped or stretched, or the batch collate fails on mismatched shapes. A
        size that holds only after rotation means half the loaders pair a turned picture with upright masks.

    How to fix:
        Re-export the JSON from the images as stored (width and height of the decoded file), or write the
        pixels upright and drop the EXIF tag; the filtered file leaves such images out.
    """
    for image in ctx.data.images:
        facts = ctx.facts_of(image)
        if facts is None:
            continue
        stored, displayed = geometries(facts)
        if len(stored) != 2:
            continue
        declared = image.size
        details = {"declared": [image.height, image.width], "decoded": list(stored)}
        if declared is None:
            yield ctx.image_hit(image, f"declares no usable width and height (width {image.width!r}, height "
                                       f"{image.height!r}); the file is {stored[1]}x{stored[0]}", **details)
        elif declared != stored and declared == displayed:
            yield ctx.image_hit(image, f"declares {image.width}x{image.height}, which the {stored[1]}x{stored[0]} "
                                       "file is only after its EXIF orientation is applied", **details,
                                exif_orientation=facts.traits.orientation)
        elif declared != stored:
            yield ctx.image_hit(image, f"declares {image.width}x{image.height} but the file is "
                                       f"{stored[1]}x{stored[0]} (width x height)", **details)
