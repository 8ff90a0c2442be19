from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


@row_check("I002", "non-finite-image", Severity.ERROR, Family.IMAGES)
def non_finite_image(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Float images containing NaN or Inf pixels; the counts of each are reported.

    Why it breaks training:
        One NaN reaches the loss through any convolution and turns every weight into NaN at the next
        optimiser step; normalisation by the image's mean or std spreads it to every pixel first.

    How to fix:
        Find where the values came from (division by zero in preprocessing, missing data in a scan) and
        replace them at the source, e.g. with np.nan_to_num, or drop the row.
    """
    image = row.image
    if image is None or (image.nan == 0 and image.inf == 0):
        return
    yield Hit(f"{image.nan} NaN and {image.inf} Inf pixel(s)", row=row.row, split=ctx.split_of(row),
              path=row.image_path, details={"nan": image.nan, "inf": image.inf})
