from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


@row_check("I003", "constant-image", Severity.ERROR, Family.IMAGES)
def constant_image(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Images whose finite pixels all hold one value: zero variance (blank exports, failed
        acquisitions, all-NaN arrays).

    Why it breaks training:
        Per-image normalisation divides by a standard deviation of zero and produces NaN or Inf, and even
        without it the sample carries no information to learn from.

    How to fix:
        Re-export the image from its source, or drop the row.
    """
    image = row.image
    if image is None:
        return
    if image.minimum != image.minimum:
        yield Hit("no finite pixel at all", row=row.row, split=ctx.split_of(row), path=row.image_path,
                  details={"nan": image.nan, "inf": image.inf})
    elif image.is_constant:
        yield Hit(f"every pixel is {image.minimum:g}: zero variance", row=row.row, split=ctx.split_of(row),
                  path=row.image_path, details={"value": image.minimum})
