from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context, is_fractional, looks_like_image
from maskaudit.facts import RowFacts, number
from maskaudit.findings import Hit, Severity


@row_check("M009", "image-as-mask", Severity.ERROR, Family.MASKS)
def image_as_mask(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Masks that are pictures rather than label maps: at least 100 distinct values (or colours) of which
        no eight hold half the pixels, or at least 100 non-integer values covering a fifth of them, as in a
        z-scored float slice or a photo. Usually the mask path names the image itself. Unsigned 16- and
        32-bit masks with many values are taken for instance maps and not reported.

    Why it breaks training:
        Every intensity becomes a "class": cross-entropy raises on out-of-range targets or trains on noise,
        and the dataset's label statistics fill with junk values. The row is dropped, and no dataset-level
        check or statistic counts its values.

    How to fix:
        Point the mask column at the label maps (check for a mask path that names the image), or re-export
        the annotation as integer class indices.
    """
    mask = row.mask
    if mask is None:
        return
    reason = looks_like_image(mask)
    if reason is None:
        return
    finite = [v for v in mask.values if v == v]
    details: dict[str, object] = {"distinct": mask.distinct, "dtype": mask.dtype, "channels": mask.channels}
    if finite:
        details.update(min=number(min(finite)), max=number(max(finite)),
                       non_integer=sum(1 for v in finite if is_fractional(v)))
    yield Hit(f"mask holds {reason}: this looks like an image, not a label map", row=row.row,
              split=ctx.split_of(row), path=row.mask_path, details=details)
