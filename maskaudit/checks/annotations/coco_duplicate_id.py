from collections import defaultdict
from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.columns import factorize
from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.annotations.facts import ImageEntry, Key
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A003", "coco-duplicate-id", Severity.ERROR)
def coco_duplicate_id(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Ids that are not unique within a file: two images with one id, two annotations with one id, or two
        image records naming the same file. Every record that shares the id is reported.

    Why it breaks training:
        pycocotools keeps the last record of an id in its index without a word: annotations are paired
        with the wrong image (its size, its pixels), an evaluation matches detections to the wrong ground
        truth, and one picture counted twice weighs twice.

    How to fix:
        Give each record its own id. Which record an id was meant for cannot be known, so the filtered
        file leaves out every record that shares one (and the annotations of such images).
    """
    images: dict[tuple[int, Key], list[ImageEntry]] = defaultdict(list)
    names: dict[tuple[int, str], list[ImageEntry]] = defaultdict(list)
    for image in ctx.data.images:
        images[(image.source, image.id)].append(image)
        if image.file_name is not None:
            names[(image.source, image.file_name)].append(image)
    for (_, key), shared in images.items():
        if len(shared) > 1:
            for image in shared:
                yield ctx.image_hit(image, f"{len(shared)} image records share id {key!r}", kind="image id")
    for (_, name), shared in names.items():
        if len(shared) > 1:
            for image in shared:
                ids = ", ".join(repr(i.id) for i in shared)
                yield ctx.image_hit(image, f"{len(shared)} image records (ids {ids}) name the file {name}",
                                    kind="file name")
    columns = ctx.annotations
    for source in range(len(ctx.sources)):
        start, end = int(columns.starts[source]), int(columns.starts[source + 1])
        codes, distinct = factorize(columns.id[start:end])
        sharing = np.bincount(codes)[codes] if len(codes) else codes
        for position in np.flatnonzero(sharing > 1).tolist():
            yield ctx.annotation_hit(columns.record(start + position),
                                     f"{sharing[position]} annotations share id {distinct[codes[position]]!r}",
                                     kind="annotation id")
