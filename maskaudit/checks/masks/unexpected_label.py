from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context, is_fractional, looks_like_image, mask_scale
from maskaudit.checks.dtypes import void_values
from maskaudit.checks.masks.lossy_mask import is_lossy
from maskaudit.facts import MaskFacts, RowFacts, format_values, number
from maskaudit.findings import Hit, Severity
from maskaudit.keys import SCALES, MaskKind


def _candidates(ctx: Context, options: Options) -> NDArray[np.bool_]:
    """Label maps that may hold an unexpected value: a superset of what unexpected_label reports."""
    keys = ctx.all_keys
    chosen = keys.only_ignore.copy()
    if ctx.settings.labels is not None:
        chosen |= keys.undeclared
    else:
        dominant = ctx.dominant_scale[0]
        if dominant is not None:
            chosen |= (keys.scale != 0) & (keys.scale != SCALES.index(dominant))
        inferred = ctx.inferred_labels
        if inferred is not None:
            chosen |= keys.negative | (keys.high > inferred.span)
    found: NDArray[np.bool_] = chosen & (keys.mask_kind == MaskKind.LABEL_MAP)
    return found


@row_check("M007", "unexpected-label", Severity.ERROR, Family.MASKS, candidates=_candidates)
def unexpected_label(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Mask values outside the declared labels (--labels, plus --ignore-index). Without declared labels,
        the dataset's labels are inferred (values in at least 30% of non-empty masks, and the classes
        next to them): a value beyond them in a few masks is reported, as an error when it is 255 or the
        dtype's maximum (an undeclared void rim), else as a warning; and masks whose encoding disagrees
        with most of the dataset, such as a {0,255} mask among {0,1} masks, are errors. Under
        --ignore-index 255, a mask holding nothing but background and 255, among masks that hold labels,
        is an error too: it is almost always a binary mask saved as 0/255.

    Why it breaks training:
        A loss that expects class indices 0..C-1 either raises on 255 (cross-entropy) or treats it as a
        target of 255 (BCE), so those samples dominate the gradient; an index mask among 0/255 masks is
        read as almost empty after the usual division by 255, and a 0/255 mask under ignore index 255 is
        trained as an empty target.

    How to fix:
        Re-encode the odd masks (divide by 255, or map colours to indices), declare a void label with
        --ignore-index, and declare the labels with --labels so the scan can hold every mask to them.
    """
    mask = row.mask
    if mask is None or mask.is_multichannel or looks_like_image(mask) is not None:
        return
    found = ignore_index_only(row, mask, ctx)
    if found is None:
        found = (undeclared_value(row, mask, ctx) if ctx.settings.labels is not None
                 else odd_encoding(row, mask, ctx) or undeclared_rim(row, mask, ctx))
    if found is not None:
        yield found


def undeclared_value(row: RowFacts, mask: MaskFacts, ctx: Context) -> Hit | None:
    declared = ctx.settings.labels or ()
    allowed = {float(v) for v in declared}
    if ctx.ignore_index is not None:
        allowed.add(ctx.ignore_index)
    extra = [v for v in mask.values if v not in allowed]
    if not extra:
        return None
    pixels = sum(c for v, c in zip(mask.values, mask.counts, strict=True) if v not in allowed)
    return Hit(
        f"values {format_values(tuple(extra))} are not declared labels "
        f"{format_values(tuple(float(v) for v in declared))} ({pixels} pixels)",
        row=row.row, split=ctx.split_of(row), path=row.mask_path,
        details={"unexpected": [number(v) for v in extra[:64]], "pixels": pixels, "declared": list(declared)},
    )


def odd_encoding(row: RowFacts, mask: MaskFacts, ctx: Context) -> Hit | None:
    dominant, scales = ctx.dominant_scale
    scale = mask_scale(mask, ctx.ignore_index)
    if dominant is None or scale is None or scale == dominant:
        return None
    return Hit(
        f"mask values {format_values(mask.values)} are encoded {scale}, but {scales[dominant]} of "
        f"{sum(scales.values())} non-empty masks are encoded {dominant}",
        row=row.row, split=ctx.split_of(row), path=row.mask_path,
        details={"values": [number(v) for v in mask.values[:64]], "encoding": scale,
                 "dataset_encoding": dominant, "encodings": dict(scales)},
    )


def undeclared_rim(row: RowFacts, mask: MaskFacts, ctx: Context) -> Hit | None:
    inferred = ctx.inferred_labels
    if inferred is None:
        return None
    outside = [v for v in mask.values
               if v != ctx.ignore_index and v == v and not is_fractional(v) and inferred.outside(v)]
    if not outside or is_lossy(row, ctx):
        return None
    pixels = sum(c for v, c in zip(mask.values, mask.counts, strict=True) if v in outside)
    in_masks = ", ".join(f"{number(v)} in {inferred.masks_with[v]}" for v in outside[:12])
    void = void_values(outside, mask.dtype)
    message = (f"value(s) {format_values(tuple(outside))} ({pixels} pixels) lie outside the dataset's labels "
               f"{format_values(inferred.labels)}; of {inferred.masks} non-empty masks, {in_masks} hold them")
    if void:
        message += f"; declare --ignore-index {number(void[0])} if it is a void label"
    return Hit(
        message, row=row.row, split=ctx.split_of(row), path=row.mask_path,
        severity=Severity.ERROR if void else Severity.WARNING,
        details={"unexpected": [number(v) for v in outside[:64]], "pixels": pixels,
                 "inferred_labels": [number(v) for v in inferred.labels],
                 "masks_with": {str(number(v)): inferred.masks_with[v] for v in outside[:64]},
                 "non_empty_masks": inferred.masks},
    )


def ignore_index_only(row: RowFacts, mask: MaskFacts, ctx: Context) -> Hit | None:
    """A mask whose only non-background value is the ignore index, where that index is what a binary mask
    saved as a picture holds (255, the dtype's maximum) and the dataset's labelled masks rarely carry it."""
    ignore = ctx.ignore_index
    if ignore is None or ignore not in mask.values or any(v not in (0.0, ignore) for v in mask.values):
        return None
    if not void_values([ignore], mask.dtype):
        return None
    labelled = ctx.totals.non_empty_masks
    carrying = ctx.totals.holding_ignore
    if not labelled or carrying * 2 >= labelled:
        return None
    pixels = mask.ignored(ignore)
    return Hit(
        f"the only value besides background is the ignore index {number(ignore)} ({pixels} pixels), while "
        f"{labelled} masks hold labels: likely a binary mask saved as 0/{number(ignore)}, which trains "
        f"as an empty target",
        row=row.row, split=ctx.split_of(row), path=row.mask_path,
        details={"values": [number(v) for v in mask.values], "ignore_index": number(ignore),
                 "ignore_pixels": pixels, "labelled_masks": labelled,
                 "labelled_masks_with_ignore_index": carrying},
    )
