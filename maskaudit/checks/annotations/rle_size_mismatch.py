from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A007", "rle-size-mismatch", Severity.ERROR)
def rle_size_mismatch(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        RLE segmentations whose size ([height, width]) differs from their image's height and width.

    Why it breaks training:
        An RLE is a run-length code over a mask of exactly its size: decoded, it cannot be stacked with the
        image's other masks, or it is resized and every pixel lands elsewhere; a swapped [width, height]
        transposes the instance.

    How to fix:
        Re-encode the mask at the image's size (pycocotools.mask.encode of the full-size mask); the
        filtered file leaves these annotations out.
    """
    columns, row = ctx.annotations, ctx.annotation_image
    declared = ctx.image_sizes[np.maximum(row, 0)] if len(ctx.image_sizes) else np.zeros((len(row), 2))
    differs = (row >= 0) & (declared[:, 0] > 0) & (columns.rle_size[:, 0] > 0) & (columns.rle_size != declared).any(1)
    for annotation in columns.records(np.flatnonzero(differs)):
        image = ctx.image_of(annotation)
        assert annotation.rle_size is not None and image is not None and image.size is not None
        if annotation.rle_size != image.size:
            swapped = annotation.rle_size == image.size[::-1]
            yield ctx.annotation_hit(
                annotation, f"RLE size {list(annotation.rle_size)} differs from the image's [height, width] "
                            f"{list(image.size)}" + (" (height and width swapped)" if swapped else ""),
                rle_size=list(annotation.rle_size), image_size=list(image.size))
