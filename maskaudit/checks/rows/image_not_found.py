from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import ProblemKind, RowFacts
from maskaudit.findings import Hit, Severity


@row_check("R003", "image-not-found", Severity.ERROR, Family.ROWS)
def image_not_found(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Rows whose image path is empty or points at a file that does not exist.

    Why it breaks training:
        The data loader raises in the middle of an epoch, or a forgiving one skips the sample and silently
        changes the class balance the run was planned for.

    How to fix:
        Check --root and the image column (--image-col), restore the files, or train on the filtered
        manifest, which leaves these rows out.
    """
    problem = row.image_problem
    if problem is not None and problem.kind in (ProblemKind.NOT_FOUND, ProblemKind.MISSING_PATH):
        yield Hit(problem.message, row=row.row, split=ctx.split_of(row), path=row.image_path)
