from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, Stage, dataset_check
from maskaudit.checks.context import Context
from maskaudit.checks.dtypes import integer_range
from maskaudit.findings import Hit, Severity


@dataset_check("S007", "ignore-index-out-of-range", Severity.ERROR, Family.SPLITS, Stage.ROWS)
def ignore_index_out_of_range(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        An --ignore-index that the masks' integer type cannot hold, such as 300 on uint8 masks or -1 on
        unsigned masks: no pixel can ever carry it.

    Why it breaks training:
        The pixels meant to be ignored are stored with some other value (often 255 or 0), so the loss
        trains on them as a real class, and the audit's own empty-mask and label checks count them too.

    How to fix:
        Pass the value the masks actually use for unlabelled pixels (255 on uint8 masks is common), or
        re-export the masks in a type wide enough for the intended value (uint16).
    """
    ignore_index = ctx.settings.ignore_index
    if ignore_index is None:
        return
    for dtype, count in sorted(ctx.totals.mask_dtypes.items()):
        bounds = integer_range(dtype)
        if bounds is not None and not bounds[0] <= ignore_index <= bounds[1]:
            yield Hit(
                f"--ignore-index {ignore_index} cannot occur in {count} {dtype} mask(s), which hold "
                f"{bounds[0]}..{bounds[1]}",
                details={"ignore_index": ignore_index, "dtype": dtype, "masks": count,
                         "min": bounds[0], "max": bounds[1]},
            )
