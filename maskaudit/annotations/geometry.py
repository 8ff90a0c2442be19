"""One annotation record to its facts: the segmentation decoded by pycocotools, or the reason it cannot be."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from pycocotools import mask as coco_mask

from maskaudit.annotations.facts import AnnotationFacts, Key, SegmentationKind

MAX_COORDINATE = float(1 << 24)  # beyond this a polygon is not rasterised: pycocotools' integer grid overflows


def annotation_facts(record: Any, index: int, source: int, position: int,
                     image_size: tuple[int, int] | None) -> AnnotationFacts:
    """Facts of one ``annotations`` element; ``image_size`` (height, width) is the JSON's, for polygons."""
    if not isinstance(record, Mapping):
        return AnnotationFacts(index, source, position, None, None, None, False, SegmentationKind.INVALID, None,
                               None, problem=f"annotation is a JSON {type(record).__name__}, not an object")
    segmentation = record.get("segmentation")
    found: dict[str, Any] = {}
    try:
        if isinstance(segmentation, list):
            found = _polygons(segmentation, image_size)
        elif isinstance(segmentation, Mapping):
            found = _rle(segmentation)
        elif segmentation is not None:
            found = {"kind": SegmentationKind.INVALID, "problem": f"segmentation is a JSON "
                                                                  f"{type(segmentation).__name__}, neither polygons "
                                                                  "nor an RLE"}
    except (ValueError, TypeError, OverflowError) as exc:  # pycocotools' own refusals become the finding
        found = {"kind": _kind_of(segmentation), "problem": f"pycocotools cannot read it: {exc}"}
    return AnnotationFacts(
        index=index, source=source, position=position, id=_key(record.get("id")),
        image_id=_key(record.get("image_id")), category_id=_key(record.get("category_id")),
        iscrowd=record.get("iscrowd") in (1, True), kind=found.pop("kind", SegmentationKind.MISSING),
        bbox=_box(record.get("bbox")), area=_number(record.get("area")), **found)


def _kind_of(segmentation: Any) -> SegmentationKind:
    if isinstance(segmentation, list):
        return SegmentationKind.POLYGON
    if isinstance(segmentation, Mapping):
        return SegmentationKind.COMPRESSED_RLE if isinstance(segmentation.get("counts"), str) else SegmentationKind.RLE
    return SegmentationKind.INVALID


_NUMBERS = frozenset((int, float))


def _polygons(parts: list[Any], image_size: tuple[int, int] | None) -> dict[str, Any]:
    kind = SegmentationKind.POLYGON
    points: list[int] = []
    usable: list[list[float]] = []
    reach: list[tuple[float, float, float, float]] = []
    for number, part in enumerate(parts):
        if not isinstance(part, list) or not {type(v) for v in part} <= _NUMBERS:  # bool is no number here
            return {"kind": kind, "problem": f"polygon {number} is not a flat list of numbers"}
        if len(part) % 2:
            return {"kind": kind, "problem": f"polygon {number} has an odd number of coordinates ({len(part)})"}
        values = np.array(part, dtype=np.float64)
        if not (np.isfinite(values).all() and (np.abs(values) < MAX_COORDINATE).all()):
            return {"kind": kind, "problem": f"polygon {number} has a coordinate that is not finite or beyond "
                                             f"{MAX_COORDINATE:g}"}
        points.append(len(part) // 2)
        if len(part):
            xs, ys = values[0::2], values[1::2]
            reach.append((float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())))
        if len(part) >= 6:
            usable.append(part)
    extent = (min(r[0] for r in reach), min(r[1] for r in reach), max(r[2] for r in reach),
              max(r[3] for r in reach)) if reach else None
    found: dict[str, Any] = {"kind": kind, "polygon_points": tuple(points), "extent": extent}
    if not usable:
        return {**found, "mask_area": 0}
    assert extent is not None
    height, width = image_size if image_size is not None else (
        max(1, math.ceil(extent[3]) + 1), max(1, math.ceil(extent[2]) + 1))
    rle = coco_mask.merge(coco_mask.frPyObjects(usable, height, width))
    return {**found, **_decoded(rle, (height, width))}


def _rle(segmentation: Mapping[str, Any]) -> dict[str, Any]:
    counts, size = segmentation.get("counts"), segmentation.get("size")
    kind = SegmentationKind.COMPRESSED_RLE if isinstance(counts, str) else SegmentationKind.RLE
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        return {"kind": kind, "problem": f"RLE size {size!r} is not [height, width] in positive integers"}
    height, width = size
    found: dict[str, Any] = {"kind": kind, "rle_size": (height, width)}
    pixels = height * width
    if isinstance(counts, str):
        rle = {"size": [height, width], "counts": counts.encode("ascii", "replace")}
        area = int(coco_mask.area(rle))
        x, y, w, h = (float(v) for v in coco_mask.toBbox(rle))
        if not 0 <= area <= pixels or x < 0 or y < 0 or x + w > width or y + h > height:
            return {**found, "problem": f"compressed RLE counts do not decode to a {height}x{width} mask"}
        return {**found, **_decoded(rle, (height, width))}
    if not isinstance(counts, list) or not all(isinstance(v, int) and v >= 0 for v in counts):
        return {**found, "problem": "RLE counts are neither a string nor a list of non-negative integers"}
    if sum(counts) != pixels:
        return {**found, "problem": f"RLE counts sum to {sum(counts)}, not {height}x{width} = {pixels} pixels"}
    return {**found, **_decoded(coco_mask.frPyObjects(dict(segmentation), height, width), (height, width))}


def _decoded(rle: dict[str, Any], size: tuple[int, int]) -> dict[str, Any]:
    x, y, w, h = (float(v) for v in coco_mask.toBbox(rle))
    return {"mask_area": int(coco_mask.area(rle)), "mask_bbox": (x, y, w, h), "rle": bytes(rle["counts"]),
            "decoded_size": size}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    return float(value) if _is_number(value) and math.isfinite(value) else None


def _box(value: Any) -> tuple[float, float, float, float] | None:
    if isinstance(value, list) and len(value) == 4 and all(_number(v) is not None for v in value):
        x, y, w, h = (float(v) for v in value)
        return x, y, w, h
    return None


def _key(value: Any) -> Key:
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, int | str | float) else None
