from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.checks.loaders import exif_loaders, geometries, orientation_text, size_text
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


@row_check("I004", "exif-orientation", Severity.ERROR, Family.IMAGES)
def exif_orientation(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Images whose header carries an EXIF orientation other than 1 (JPEG, PNG, WebP, TIFF), as phone
        photos do. An error when the mask matches only one of the image's two geometries, the stored pixels
        or the picture as displayed after the rotation (the message says which); a warning when the
        geometry cannot tell (a square image, a 180-degree turn or a mirror) or the row has no mask.
        Orientation 1 is silent.

    Why it breaks training:
        Loaders disagree on the tag: cv2.imread with default flags and PIL ImageOps.exif_transpose turn
        the image, cv2.imread with IMREAD_UNCHANGED, plain PIL Image.open and torchvision decode_image (by
        default) do not. Whichever convention the mask was drawn on, half of all pipelines pair the image
        with a mask turned against it, or fail on mismatched shapes.

    How to fix:
        Write the pixels upright and drop the tag (PIL ImageOps.exif_transpose, then save), keeping the
        masks drawn on the upright view; or, when the masks follow the stored pixels, strip the tag.
    """
    image = row.image
    if image is None or image.traits.orientation == 1:
        return
    orientation = image.traits.orientation
    applies, ignores = exif_loaders(image.format)
    stored, displayed = geometries(image)
    tag = orientation_text(orientation)
    details: dict[str, object] = {"orientation": orientation, "stored_shape": list(stored),
                                  "displayed_shape": list(displayed), "applies_it": applies, "ignores_it": ignores,
                                  "mask_path": row.mask_path}
    split, path = ctx.split_of(row), row.image_path
    mask = row.mask
    if mask is None:
        yield Hit(f"image carries {tag}: {applies} apply it, {ignores} do not; any mask or prediction paired "
                  f"with it must follow one of the two", row=row.row, split=split, path=path, details=details,
                  severity=Severity.WARNING)
        return
    matches_stored, matches_displayed = mask.spatial == stored, mask.spatial == displayed
    if matches_stored and matches_displayed:
        why = (f"the image is square ({size_text(stored)})" if image.traits.rotated
               else "that keeps its height and width")
        yield Hit(f"image carries {tag} and {why}: its geometry cannot tell whether the mask was drawn on the "
                  f"stored pixels or on the picture as displayed, and {applies} apply the tag while {ignores} "
                  f"do not; check one pair with a loader that applies EXIF", row=row.row, split=split, path=path,
                  details={**details, "mask_matches": "both"}, severity=Severity.WARNING)
    elif matches_stored:
        yield Hit(f"image carries {tag} and its mask matches the stored {size_text(stored)} pixels, not the "
                  f"{size_text(displayed)} picture as displayed: {applies} turn the image and pair it with a "
                  f"mask of another geometry; {ignores} do not", row=row.row, split=split, path=path,
                  details={**details, "mask_matches": "stored"})
    elif matches_displayed:
        yield Hit(f"image carries {tag} and its mask matches the picture as displayed ({size_text(displayed)}), "
                  f"not the stored {size_text(stored)} pixels: {ignores} ignore the tag and pair the mask with "
                  f"an image turned against it; {applies} apply it", row=row.row, split=split, path=path,
                  details={**details, "mask_matches": "displayed"})
