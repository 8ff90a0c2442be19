from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context, is_fractional, looks_like_image
from maskaudit.facts import MaskFacts, RowFacts, format_values, number
from maskaudit.findings import Hit, Severity


@row_check(
    "M008", "lossy-mask", Severity.ERROR, Family.MASKS,
    options={
        "min_intermediate_values": (4, "distinct intermediate values that mark a mask as lossy"),
        "main_share": (0.005, "pixel share from which a value counts as a label rather than an artifact"),
    },
)
def lossy_mask(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        JPEG-compressed masks (recognised from the file's bytes, whatever its extension), float masks
        holding non-integer values (no label is a fraction: {0, 0.25, 0.5, 0.75, 1} is a linearly
        downsampled binary mask), and masks with many intermediate values: rare values lying between the
        labels, as JPEG ringing or a bilinear resize leaves along every boundary. With --labels, every
        undeclared value between the declared ones counts as intermediate.

    Why it breaks training:
        Boundary pixels get labels that mean nothing (or a class that is not there), the loss is asked to
        learn noise along every edge, and binarising with a threshold shifts every boundary.

    How to fix:
        Re-export masks losslessly (PNG) from the source annotation and resize masks only with
        nearest-neighbour interpolation. Thresholding a lossy mask is a last resort.
    """
    mask = row.mask
    if mask is None or mask.is_multichannel or looks_like_image(mask) is not None:
        return
    split = ctx.split_of(row)
    if mask.format == "jpeg":
        yield Hit("mask is JPEG-compressed: boundary values are altered", row=row.row, split=split,
                  path=row.mask_path, details={"format": mask.format, "distinct": mask.distinct})
        return
    fractions = [v for v in mask.values if is_fractional(v)]
    if fractions:
        pixels = mask.fractional_pixels
        yield Hit(
            f"{mask.dtype} mask holds {len(fractions)} non-integer value(s) {format_values(tuple(fractions))} "
            f"({pixels} pixels): no label is a fraction, as a linear resize or a soft label leaves",
            row=row.row, split=split, path=row.mask_path,
            details={"non_integer_values": [number(v) for v in fractions[:64]], "pixels": pixels,
                     "distinct": mask.distinct},
        )
        return
    intermediate = intermediate_values(mask, ctx, options["main_share"])
    if len(intermediate) >= options["min_intermediate_values"]:
        pixels = sum(c for v, c in zip(mask.values, mask.counts, strict=True) if v in intermediate)
        yield Hit(
            f"{len(intermediate)} intermediate values between the labels ({pixels} pixels), as lossy "
            f"compression or interpolation leaves",
            row=row.row, split=split, path=row.mask_path,
            details={"intermediate_values": [number(v) for v in sorted(intermediate)[:64]],
                     "pixels": pixels, "distinct": mask.distinct},
        )


def intermediate_values(mask: MaskFacts, ctx: Context, main_share: float) -> set[float]:
    values = [v for v in mask.values if v != ctx.ignore_index and v == v]
    if ctx.settings.labels is not None:
        declared = sorted(float(v) for v in ctx.settings.labels if v != ctx.settings.ignore_index)
        if len(declared) < 2:
            return set()
        return {v for v in values if declared[0] < v < declared[-1] and v not in declared}
    total = sum(mask.counts) or 1
    share = dict(zip(mask.values, (c / total for c in mask.counts), strict=True))
    main = sorted(v for v in values if share[v] >= main_share)
    if len(main) < 2:
        return set()
    return {v for v in values if main[0] < v < main[-1] and v not in main}


def is_lossy(row: RowFacts, ctx: Context) -> bool:
    """Whether lossy-mask reports this row, with the user's thresholds: its odd values are then artifacts."""
    return any(lossy_mask.run(row, ctx, lossy_mask.resolved_options(ctx.settings.thresholds)))
