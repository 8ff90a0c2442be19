from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context, mask_scale
from maskaudit.facts import RowFacts, format_values, number
from maskaudit.findings import Hit, Severity


@row_check("M007", "unexpected-label", Severity.ERROR, Family.MASKS)
def unexpected_label(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Mask values outside the declared labels (--labels, plus --ignore-index). Without declared labels,
        masks whose encoding disagrees with most of the dataset: a {0,255} mask among {0,1} masks, or the
        reverse.

    Why it breaks training:
        A loss that expects class indices 0..C-1 either raises on 255 (cross-entropy) or treats it as a
        target of 255 (BCE), so those samples dominate the gradient; an index mask among 0/255 masks is
        read as almost empty after the usual division by 255.

    How to fix:
        Re-encode the odd masks (divide by 255, or map colours to indices) and declare the labels with
        --labels so the scan can hold every mask to them.
    """
    mask = row.mask
    if mask is None or mask.is_multichannel:
        return
    split = ctx.split_of(row)
    declared = ctx.settings.labels
    if declared is not None:
        allowed = {float(v) for v in declared}
        if ctx.ignore_index is not None:
            allowed.add(ctx.ignore_index)
        extra = [v for v in mask.values if v not in allowed]
        if extra:
            pixels = sum(c for v, c in zip(mask.values, mask.counts, strict=True) if v not in allowed)
            yield Hit(
                f"values {format_values(tuple(extra))} are not declared labels "
                f"{format_values(tuple(float(v) for v in declared))} ({pixels} pixels)",
                row=row.row, split=split, path=row.mask_path,
                details={"unexpected": [number(v) for v in extra[:64]], "pixels": pixels,
                         "declared": list(declared)},
            )
        return
    dominant, scales = ctx.dominant_scale
    scale = mask_scale(mask, ctx.ignore_index)
    if dominant is None or scale is None or scale == dominant:
        return
    yield Hit(
        f"mask values {format_values(mask.values)} are encoded {scale}, but {scales[dominant]} of "
        f"{sum(scales.values())} non-empty masks are encoded {dominant}",
        row=row.row, split=split, path=row.mask_path,
        details={"values": [number(v) for v in mask.values[:64]], "encoding": scale,
                 "dataset_encoding": dominant, "encodings": dict(scales)},
    )
