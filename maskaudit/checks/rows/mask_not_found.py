from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import ProblemKind, RowFacts
from maskaudit.findings import Hit, Severity


@row_check("R002", "mask-not-found", Severity.ERROR, Family.ROWS)
def mask_not_found(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Rows whose mask path points at a file that does not exist.

    Why it breaks training:
        The loader either crashes hours into the run or, with a forgiving dataset class, substitutes an
        empty target and teaches the model to predict background.

    How to fix:
        Check --root (relative paths resolve against the manifest's folder by default), restore the
        missing files, or drop the rows with the filtered manifest.
    """
    if row.mask_problem is not None and row.mask_problem.kind is ProblemKind.NOT_FOUND:
        yield Hit(row.mask_problem.message, row=row.row, split=ctx.split_of(row), path=row.mask_path)
