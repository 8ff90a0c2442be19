from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A001", "coco-unknown-image", Severity.ERROR)
def coco_unknown_image(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Annotations whose image_id names no image of their file (a missing or mistyped id, or images
        removed from a file whose annotations were left behind).

    Why it breaks training:
        pycocotools indexes such annotations without a word, then a loader that walks annotations looks the
        image up and raises a KeyError mid-epoch, or one that walks images silently never trains on them.

    How to fix:
        Restore the image record or delete the annotation; the filtered file leaves such annotations out.
    """
    for annotation in ctx.annotations.records(np.flatnonzero(ctx.annotation_image < 0)):
        yield ctx.annotation_hit(annotation, f"image_id {annotation.image_id!r} names no image of the file")
