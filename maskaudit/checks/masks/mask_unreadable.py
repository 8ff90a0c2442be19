from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import ProblemKind, RowFacts
from maskaudit.findings import Hit, Severity


@row_check("M001", "mask-unreadable", Severity.ERROR, Family.MASKS)
def mask_unreadable(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Mask files that exist but cannot be decoded: zero bytes, truncated, corrupt, or not an image at all.

    Why it breaks training:
        The loader raises mid-epoch, or a forgiving one yields an empty target, so the model is taught
        that the structure is absent.

    How to fix:
        Re-export the mask from its source annotation, or drop the row with the filtered manifest.
    """
    if row.mask_problem is not None and row.mask_problem.kind is ProblemKind.UNREADABLE:
        yield Hit(row.mask_problem.message, row=row.row, split=ctx.split_of(row), path=row.mask_path)
