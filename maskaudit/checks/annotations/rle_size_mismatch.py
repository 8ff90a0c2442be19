from collections.abc import Iterator

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
    for annotation in ctx.data.annotations:
        image = ctx.image_of(annotation)
        if annotation.rle_size is None or image is None or image.size is None:
            continue
        if annotation.rle_size != image.size:
            swapped = annotation.rle_size == image.size[::-1]
            yield ctx.annotation_hit(
                annotation, f"RLE size {list(annotation.rle_size)} differs from the image's [height, width] "
                            f"{list(image.size)}" + (" (height and width swapped)" if swapped else ""),
                rle_size=list(annotation.rle_size), image_size=list(image.size))
