from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.checks.loaders import exif_loaders, geometries, size_text
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


@row_check("M005", "shape-mismatch", Severity.ERROR, Family.MASKS)
def shape_mismatch(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Masks whose height and width (or volume size) differ from their image's. When the image carries an
        EXIF orientation under which the sizes would match, the message says so.

    Why it breaks training:
        Augmentations raise on mismatched targets, or a resize in the loader stretches the mask over the
        wrong pixels, so the labels no longer sit on the structures they describe.

    How to fix:
        Find which of the two files is wrong (a transposed array, a thumbnail, a mask from another image),
        regenerate it, or drop the row. When the mask matches the image after its EXIF rotation, the image
        is the file to fix: write its pixels upright (PIL ImageOps.exif_transpose, then save).
    """
    if row.mask is None or row.image is None:
        return
    if row.mask.spatial == row.image.spatial:
        return
    mask_size, image_size = size_text(row.mask.spatial), size_text(row.image.spatial)
    details: dict[str, object] = {"mask_shape": list(row.mask.spatial), "image_shape": list(row.image.spatial),
                                  "image_path": row.image_path}
    message = f"mask is {mask_size} but its image is {image_size}"
    stored, displayed = geometries(row.image)
    orientation = row.image.traits.orientation
    applies, ignores = exif_loaders(row.image.format)
    if row.image.traits.rotated and row.mask.spatial == displayed:
        message += (f"; it matches the image as displayed after its EXIF rotation (Orientation={orientation}): "
                    f"{applies} apply it, {ignores} do not; the image, not the mask, is the file to fix: write "
                    f"its pixels upright")
        details.update(orientation=orientation, mask_matches="displayed")
    elif row.image.traits.rotated and row.mask.spatial == stored:
        message += (f" as displayed after its EXIF rotation (Orientation={orientation}), which {applies} apply; "
                    f"it matches the image's stored pixels, which {ignores} give: write the image's pixels "
                    f"upright or strip the tag, whichever matches how the mask was drawn")
        details.update(orientation=orientation, mask_matches="stored")
    yield Hit(message, row=row.row, split=ctx.split_of(row), path=row.mask_path, details=details)
