from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


@row_check("R001", "no-annotation", Severity.ERROR, Family.ROWS)
def no_annotation(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Rows whose has-annotation flag says there is no mask, or whose mask path is null or empty,
        whatever the flag says.

    Why it breaks training:
        A loader fills a missing mask with zeros. Enough of these rows and the model learns that the
        answer is always background: the loss falls towards 0.0 within an epoch or two while the model
        detects nothing.

    How to fix:
        Remove the rows from the training manifest (the filtered manifest already does), or supply the
        mask and set the flag. If the rows are truly negative cases, write an explicit all-zero mask so the
        decision is visible.
    """
    split = ctx.split_of(row)
    if row.mask_path is None:
        yield Hit("mask path is empty", row=row.row, split=split, path=row.image_path,
                  details={"flag": row.flag})
    elif row.flag is False:
        yield Hit("the annotation flag says this row has no mask", row=row.row, split=split,
                  path=row.mask_path, details={"flag": False})
