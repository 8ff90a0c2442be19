from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.columns import first_positions, keys_of
from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.annotations.facts import InputKind
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A002", "coco-unknown-category", Severity.ERROR)
def coco_unknown_category(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Annotations whose category_id names no entry of the file's categories (COCO files only: SA-1B
        masks carry no category).

    Why it breaks training:
        The class index is looked up in the category mapping: a missing id raises a KeyError in the
        dataset class, or, mapped by a lookup table sized to the categories, indexes out of range in the
        loss on the GPU (a device-side assert that names nothing).

    How to fix:
        Add the category to categories or correct the annotation's category_id; the filtered file leaves
        such annotations out.
    """
    if ctx.data.kind is not InputKind.COCO:
        return
    columns = ctx.annotations
    for source in range(len(ctx.sources)):
        start, end = int(columns.starts[source]), int(columns.starts[source + 1])
        known = keys_of(list(ctx.category_ids.get(source, {})))
        unknown = np.flatnonzero(first_positions(known, columns.category_id[start:end]) < 0) + start
        for annotation in columns.records(unknown):
            yield ctx.annotation_hit(annotation, f"category_id {annotation.category_id!r} names no category",
                                     category_id=annotation.category_id)
