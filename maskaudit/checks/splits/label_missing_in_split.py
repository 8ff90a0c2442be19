from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, Stage, dataset_check
from maskaudit.checks.context import Context, is_fractional
from maskaudit.facts import number
from maskaudit.findings import Hit, Severity


@dataset_check("S004", "label-missing-in-split", Severity.WARNING, Family.SPLITS, Stage.KEPT)
def label_missing_in_split(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Foreground labels (declared with --labels, or integer values seen in any split's usable masks) that
        no usable mask of a split contains.

    Why it breaks training:
        A class absent from training is never learned; absent from validation, its score is never
        measured, so model selection is blind to it.

    How to fix:
        Re-split with stratification by label presence, or add annotated samples of the missing class.
    """
    stats = ctx.kept_stats
    if ctx.settings.labels is not None:
        expected = {float(v) for v in ctx.settings.labels if v != 0 and v != ctx.settings.ignore_index}
    else:
        if len(stats) < 2:
            return
        expected = {v for s in stats.values() for v in s.label_pixels if v != 0 and not is_fractional(v)}
    for split, split_stats in stats.items():
        if not split_stats.masks:
            continue
        missing = sorted(v for v in expected if split_stats.label_pixels.get(v, 0) == 0)
        if missing:
            names = ctx.settings.label_names
            shown = ", ".join(f"{number(v)} ({names[int(v)]})" if int(v) in names else str(number(v))
                              for v in missing)
            yield Hit(f"no mask in this split contains label(s) {shown}", split=split,
                      details={"missing": [number(v) for v in missing]})
