from collections.abc import Iterator

import numpy as np

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
    keys = ctx.all_keys
    if not keys.size:
        yield Hit("the manifest has no rows", split=NO_SPLIT)
        return
    assert ctx.kept is not None
    names = ctx.split_names
    rows = np.bincount(keys.split, minlength=len(names))
    kept = np.bincount(keys.split[ctx.kept], minlength=len(names))
    for number, split in enumerate(names):
        if rows[number] and not kept[number]:
            yield Hit(f"all {int(rows[number])} rows were dropped", split=split, details={"rows": int(rows[number])})
