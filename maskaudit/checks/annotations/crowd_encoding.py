from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.annotations.facts import InputKind, SegmentationKind
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A009", "crowd-encoding", Severity.WARNING)
def crowd_encoding(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        COCO annotations whose encoding contradicts iscrowd: iscrowd 1 with polygons, or an RLE (list or
        compressed counts) with iscrowd 0 or absent. SA-1B files, all RLE by design, are not judged.

    Why it breaks training:
        Loaders and COCO evaluation branch on iscrowd, not on the encoding: crowd regions are ignored in
        matching and many training pipelines skip them or treat them as ignore regions, while some
        converters read RLE only for crowds. A contradicting pair is trained on as the wrong kind of
        object, or dropped by one tool and kept by another.

    How to fix:
        Set iscrowd to match what the region is (1 for a crowd drawn as one RLE, 0 for an object) and
        encode objects as polygons, crowds as RLE.
    """
    if ctx.data.kind is not InputKind.COCO:
        return
    columns = ctx.annotations
    rle_kinds = columns.is_kind(SegmentationKind.RLE, SegmentationKind.COMPRESSED_RLE)
    candidates = np.flatnonzero((columns.iscrowd & columns.is_kind(SegmentationKind.POLYGON))
                                | (rle_kinds & ~columns.iscrowd))
    for annotation in columns.records(candidates):
        rle = annotation.kind in (SegmentationKind.RLE, SegmentationKind.COMPRESSED_RLE)
        if annotation.iscrowd and annotation.kind is SegmentationKind.POLYGON:
            yield ctx.annotation_hit(annotation, "iscrowd is 1 but the segmentation is polygons",
                                     segmentation=annotation.kind.value, iscrowd=True)
        elif rle and not annotation.iscrowd:
            yield ctx.annotation_hit(annotation, f"segmentation is an {annotation.kind.value} but iscrowd is not 1",
                                     segmentation=annotation.kind.value, iscrowd=False)
