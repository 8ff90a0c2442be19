"""``--rasterize``: each kept image's kept instances painted into a label map (category id per pixel), measured as
a mask file is, and judged by the mask and split checks, so semantic segmentation trained from an annotation
file gets the same audit as a folder of label maps.

One image at a time, at the size its record declares: overlaps are resolved by area, larger instances painted
first so smaller ones stay on top (as panoptic conversions do).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from maskaudit.annotations.context import AnnotationContext
from maskaudit.annotations.facts import ImageEntry, InputKind
from maskaudit.annotations.geometry import annotation_facts
from maskaudit.checks.registry import CHECKS
from maskaudit.data_root import DataRoot
from maskaudit.decode import Decoded
from maskaudit.errors import UsageError
from maskaudit.facts import MaskFacts, Problem, ProblemKind, RowFacts
from maskaudit.findings import Finding
from maskaudit.judge import judge
from maskaudit.limits import Limits
from maskaudit.measure import measure_mask
from maskaudit.scan import facts_of
from maskaudit.settings import Settings

RASTER_FORMAT = "rasterized"
# the mask checks a painted label map can fail: not those about how a file was written (lossy, multichannel,
# an image saved as a mask) nor its size, which coco-image-size judges against the decoded image
RASTER_CHECKS = tuple(c for c in CHECKS if c.name in (
    "mask-unreadable", "empty-mask", "full-mask", "tiny-foreground", "class-imbalance", "label-missing-in-split",
    "high-empty-fraction", "no-positive-masks"))

Elements = Callable[[int], AbstractContextManager[Callable[[int], Any]]]
"""For an input file's number, a context giving the reader of its ``annotations`` element at a position."""


def raster_settings(settings: Settings, context: AnnotationContext) -> Settings:
    """The settings the label maps are judged with: the categories as declared labels (0 is background) unless
    --labels declares others, and only the checks that apply to painted maps."""
    if context.data.kind is not InputKind.COCO:
        raise UsageError("--rasterize needs COCO files: SA-1B masks carry no category to paint")
    ids = [c.id for c in context.data.categories]
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 1 << 31 for i in ids):
        raise UsageError("--rasterize paints category ids as label values: every category id must be a positive "
                         "integer; renumber the categories or scan without --rasterize")
    names: dict[int, str] = {0: "background"}
    for category in context.data.categories:
        names.setdefault(int(category.id), category.name)  # type: ignore[arg-type]
    chosen = {c.name for c in RASTER_CHECKS}
    select = frozenset(chosen if settings.select is None else chosen & settings.select)
    if settings.labels is not None:
        return replace(settings, select=select)
    return replace(settings, select=select, labels=tuple(sorted(names)), label_names=names)


def rasterized_rows(context: AnnotationContext, elements: Elements, limits: Limits) -> list[RowFacts]:
    """One row per image the filtered file keeps: its decoded image facts and its label map's mask facts."""
    assert context.kept_images is not None and context.kept_annotations is not None
    columns = context.annotations
    kept = np.flatnonzero(context.kept_annotations)
    owner = context.annotation_image[kept]
    order = np.lexsort((-columns.mask_area[kept], owner))  # by image, then larger instances first
    kept, owner = kept[order], owner[order]
    found: list[RowFacts] = []
    for source in range(len(context.sources)):
        images = [i for i in context.data.images if i.source == source and i.row in context.kept_images]
        if not images:
            continue
        with elements(source) as element:
            for image in images:
                first, last = np.searchsorted(owner, [image.row, image.row + 1])
                mask, problem = _measured(image, kept[first:last], element, context, limits)
                decoded = context.image_rows[image.row] if image.row < len(context.image_rows) else None
                found.append(RowFacts(
                    row=image.row, image_path=image.file_name, mask_path=image.file_name, split=image.split,
                    row_id=decoded.row_id if decoded is not None else None,
                    image=decoded.image if decoded is not None else None, mask=mask, mask_problem=problem))
    return found


def judge_rasterized(context: AnnotationContext, rows: Sequence[RowFacts], settings: Settings,
                     root: DataRoot | None = None) -> tuple[Finding, ...]:
    """The mask and split checks' findings on the label maps, naming each image's id and file."""
    judged = judge(rows, settings, has_splits=True, root=root)
    return tuple(_named(f, context) for f in judged.findings)


def label_map(image: ImageEntry, members: NDArray[np.int64], element: Callable[[int], Any],
              context: AnnotationContext) -> NDArray[Any]:
    """The image's label map: each member (larger first) painted with its category id."""
    from pycocotools import mask as coco_mask  # the coco extra: imported only when annotation files are read

    assert image.size is not None
    height, width = image.size
    columns = context.annotations
    largest = max((int(c.id) for c in context.data.categories if isinstance(c.id, int)), default=0)
    painted = np.zeros((height, width), dtype=np.min_scalar_type(largest))
    for index in members.tolist():
        position = columns.position(index)
        facts = annotation_facts(element(position), index, int(columns.source[index]), position, image.size)
        if facts.rle and facts.decoded_size == image.size:
            with warnings.catch_warnings():  # pycocotools' own array hand-off, deprecated under numpy 2
                warnings.simplefilter("ignore", DeprecationWarning)
                mask = coco_mask.decode({"size": [height, width], "counts": facts.rle})
            painted[mask.astype(np.bool_)] = facts.category_id
    return painted


def _measured(image: ImageEntry, members: NDArray[np.int64], element: Callable[[int], Any],
              context: AnnotationContext, limits: Limits) -> tuple[MaskFacts | None, Problem | None]:
    if image.size is None:
        return None, Problem(ProblemKind.UNREADABLE, "the image record declares no width and height to paint at")
    height, width = image.size
    if height * width > limits.max_pixels:
        return None, Problem(ProblemKind.UNREADABLE, f"label map of {width}x{height} pixels is over --max-pixels "
                                                     f"{limits.max_pixels:,}; raise it if the image is genuine")
    return facts_of(Decoded(label_map(image, members, element, context), RASTER_FORMAT), "mask", measure_mask)


def _named(finding: Finding, context: AnnotationContext) -> Finding:
    if finding.row is None:
        return replace(finding, details={**finding.details, "rasterized": True})
    image = context.data.images[finding.row]
    return replace(finding, details={**finding.details, "file": context.sources[image.source].name,
                                     "image_id": image.id, "rasterized": True})

