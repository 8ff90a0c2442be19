from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, Stage, dataset_check
from maskaudit.checks.context import Context
from maskaudit.findings import Hit, Severity


@dataset_check("S005", "mixed-image-encoding", Severity.WARNING, Family.SPLITS, Stage.KEPT)
def mixed_image_encoding(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Images that differ in dtype, channel count or value range (uint8 0-255, float 0-1, z-scored) within
        a split, or splits whose images are each uniform but encoded differently from one another.

    Why it breaks training:
        One normalisation cannot fit both: uint8 images next to z-scored floats give inputs 100x apart, and
        most float-aware augmentations clip z-scored data to [0, 1].

    How to fix:
        Convert every image to one encoding offline, or normalise per image in the loader, before any
        augmentation.
    """
    per_split: dict[str, str] = {}
    for split, stats in ctx.kept_stats.items():
        kinds = stats.image_kinds
        if len(kinds) > 1:
            parts = sorted(kinds.items(), key=lambda item: -item[1][0])
            described = "; ".join(f"{count} {dtype} x{ch} {enc}" for (dtype, ch, enc), (count, _) in parts)
            yield Hit(
                f"images are encoded {len(kinds)} ways: {described}",
                split=split,
                details={"kinds": [{"dtype": d, "channels": c, "encoding": e, "count": count,
                                    "example_rows": list(rows)} for (d, c, e), (count, rows) in parts]},
            )
        elif len(kinds) == 1:
            (dtype, channels, encoding), = kinds
            per_split[split] = f"{dtype} x{channels} {encoding}"
    if len(set(per_split.values())) > 1:
        described = "; ".join(f"{split}: {kind}" for split, kind in per_split.items())
        yield Hit(f"splits are encoded differently: {described}", details={"splits": per_split})
