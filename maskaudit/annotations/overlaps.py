"""How much instances of one category on one image overlap, measured per image group while a file is read.

Masks are not kept: the few instances whose boxes could overlap enough are decoded again, one group at a
time, and only the pairs whose mask IoU exceeds OVERLAP_FLOOR are recorded.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from maskaudit.annotations.columns import AnnotationColumns, Overlaps, factorize

OVERLAP_FLOOR = 0.5
"""The least mask IoU recorded: duplicate-instance's iou option cannot go below it."""

Mask = tuple[bytes, tuple[int, int]]  # compressed RLE counts and (height, width)
MaskOf = Callable[[int], Mask | None]


def measure_overlaps(part: AnnotationColumns, mask_of: MaskOf) -> Overlaps:
    """Pairs within ``part`` (one file's columns) of one image and category with mask IoU above the floor;
    ``mask_of`` decodes annotation ``index`` of the part again."""
    usable = np.flatnonzero((part.mask_area > 0) & ~np.isnan(part.mask_bbox[:, 0]) & ~part.has_problem())
    if len(usable) < 2:
        return Overlaps()
    images, _ = factorize(part.image_id[usable])
    categories, _ = factorize(part.category_id[usable])
    order = np.lexsort((usable, categories, images))
    group = images[order] * (int(categories.max()) + 1) + categories[order]
    members = usable[order]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(group)) + 1])
    ends = np.append(starts[1:], len(group))
    several = ends - starts > 1  # most instances are alone with their category on their image
    later: list[int] = []
    earlier: list[int] = []
    found: list[float] = []
    for start, end in zip(starts[several].tolist(), ends[several].tolist(), strict=True):
        for pair in _group(part, members[start:end], mask_of):
            later.append(pair[0])
            earlier.append(pair[1])
            found.append(pair[2])
    return Overlaps(np.array(later, dtype=np.int64), np.array(earlier, dtype=np.int64),
                    np.array(found, dtype=np.float64))


def _group(part: AnnotationColumns, members: np.ndarray, mask_of: MaskOf) -> list[tuple[int, int, float]]:
    from pycocotools import mask as coco_mask  # the coco extra: imported only when annotation files are read

    boxes = part.mask_bbox[members]
    areas = part.mask_area[members].astype(np.float64)
    x0, y0, x1, y1 = boxes[:, 0], boxes[:, 1], boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]
    masks: dict[int, Mask | None] = {}
    pairs = []
    for j in range(1, len(members)):
        # an upper bound on the masks' IoU: the intersection of the boxes over the larger mask
        overlap = (np.maximum(0.0, np.minimum(x1[:j], x1[j]) - np.maximum(x0[:j], x0[j]))
                   * np.maximum(0.0, np.minimum(y1[:j], y1[j]) - np.maximum(y0[:j], y0[j])))
        candidates = np.flatnonzero(overlap / np.maximum(areas[:j], areas[j]) > OVERLAP_FLOOR)
        if not len(candidates):
            continue
        b = _mask(masks, int(members[j]), mask_of)
        for i in candidates.tolist():
            a = _mask(masks, int(members[i]), mask_of)
            if a is None or b is None or a[1] != b[1]:
                continue
            size = list(a[1])
            value = float(coco_mask.iou([{"size": size, "counts": a[0]}], [{"size": size, "counts": b[0]}], [0])[0][0])
            if value > OVERLAP_FLOOR:
                pairs.append((int(members[j]), int(members[i]), value))
    return pairs


def _mask(masks: dict[int, Mask | None], index: int, mask_of: MaskOf) -> Mask | None:
    if index not in masks:
        masks[index] = mask_of(index)
    return masks[index]
