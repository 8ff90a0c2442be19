from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


@row_check("M005", "shape-mismatch", Severity.ERROR, Family.MASKS)
def shape_mismatch(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Masks whose height and width (or volume size) differ from their image's.

    Why it breaks training:
        Augmentations raise on mismatched targets, or a resize in the loader stretches the mask over the
        wrong pixels, so the labels no longer sit on the structures they describe.

    How to fix:
        Find which of the two files is wrong (a transposed array, a thumbnail, a mask from another image),
        regenerate it, or drop the row.
    """
    if row.mask is None or row.image is None:
        return
    if row.mask.spatial != row.image.spatial:
        mask_size = "x".join(str(s) for s in row.mask.spatial)
        image_size = "x".join(str(s) for s in row.image.spatial)
        yield Hit(f"mask is {mask_size} but its image is {image_size}", row=row.row, split=ctx.split_of(row),
                  path=row.mask_path,
                  details={"mask_shape": list(row.mask.spatial), "image_shape": list(row.image.spatial),
                           "image_path": row.image_path})
