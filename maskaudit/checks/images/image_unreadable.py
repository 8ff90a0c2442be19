from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import ProblemKind, RowFacts
from maskaudit.findings import Hit, Severity


@row_check("I001", "image-unreadable", Severity.ERROR, Family.IMAGES)
def image_unreadable(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Image files that exist but cannot be decoded: zero bytes, truncated, corrupt, or not an image.

    Why it breaks training:
        The loader raises in the middle of an epoch (often hours in), or a forgiving one skips the sample
        and returns a neighbour, silently duplicating data.

    How to fix:
        Re-export or re-download the image, or train on the filtered manifest, which leaves it out.
    """
    if row.image_problem is not None and row.image_problem.kind is ProblemKind.UNREADABLE:
        yield Hit(row.image_problem.message, row=row.row, split=ctx.split_of(row), path=row.image_path)
