from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, Stage, dataset_check
from maskaudit.checks.context import Context
from maskaudit.findings import Hit, Severity


@dataset_check("S002", "high-empty-fraction", Severity.WARNING, Family.SPLITS, Stage.KEPT,
               options={"max_empty_share": (0.5, "share of empty masks in a split above which it is reported")})
def high_empty_fraction(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Splits in which more than max_empty_share (50% by default) of the usable masks are empty.

    Why it breaks training:
        Most batches then hold no foreground; the model drifts towards predicting background and its
        recall collapses, while the loss looks healthy.

    How to fix:
        Sample non-empty masks more often (a weighted sampler), drop part of the empty ones
        (--drop empty-mask), or use a foreground-aware crop.
    """
    limit = options["max_empty_share"]
    for split, stats in ctx.kept_stats.items():
        if stats.masks and stats.masks != stats.empty_masks and stats.empty_share > limit:
            yield Hit(f"{stats.empty_masks} of {stats.masks} masks ({stats.empty_share:.0%}) are empty",
                      split=split, details={"empty": stats.empty_masks, "masks": stats.masks,
                                            "empty_share": round(stats.empty_share, 6)})
