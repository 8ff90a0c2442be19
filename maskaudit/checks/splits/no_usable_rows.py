from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, Stage, dataset_check
from maskaudit.checks.context import NO_SPLIT, Context
from maskaudit.findings import Hit, Severity


@dataset_check("S006", "no-usable-rows", Severity.ERROR, Family.SPLITS, Stage.KEPT)
def no_usable_rows(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        A manifest with no rows, or a split in which every row was dropped by an error finding (or by
        --drop): nothing is left to train or evaluate on.

    Why it breaks training:
        The filtered manifest is empty for that split; a training job on it fails at start-up, or worse, an
        evaluation loop over zero samples reports a default score.

    How to fix:
        Look at the findings that dropped the rows; usually one systematic cause (a wrong --root, a wrong
        mask column, one encoding problem) explains all of them.
    """
    if not ctx.rows:
        yield Hit("the manifest has no rows", split=NO_SPLIT)
        return
    kept = ctx.by_split(ctx.kept_rows)
    for split, rows in ctx.by_split(ctx.rows).items():
        if rows and not kept.get(split):
            yield Hit(f"all {len(rows)} rows were dropped", split=split, details={"rows": len(rows)})
