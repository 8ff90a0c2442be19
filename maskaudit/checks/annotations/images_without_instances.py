from collections import Counter
from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A011", "images-without-instances", Severity.WARNING, kept=True, options={
    "max_share": (0.25, "share of a split's images without any instance above which it is reported"),
})
def images_without_instances(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Splits in which more than max_share (25% by default) of the images the filtered file keeps have no
        instance at all.

    Why it breaks training:
        These are pure negatives. In bulk they starve the detector of positives: losses normalised by the
        number of positive anchors divide by zero on whole batches, and Mask R-CNN-style runs learn to
        predict nothing, with detections dropping to zero during training. Many loaders
        (filter_empty_gt) silently drop them instead, so the run trains on another dataset than counted.

    How to fix:
        Keep a deliberate, small share of negatives (sample them per batch), or annotate what they show;
        raise max_share when the negatives are intended.
    """
    limit = options["max_share"]
    named = ctx.annotation_image[ctx.usable_annotations]
    with_instances = np.zeros(len(ctx.data.images), dtype=np.bool_)
    with_instances[named[named >= 0]] = True
    first = ctx.first_image
    images: Counter[str] = Counter()
    empty: Counter[str] = Counter()
    for image in ctx.usable_images:
        images[image.split] += 1
        if not with_instances[first[image.row]]:
            empty[image.split] += 1
    for split, total in images.items():
        share = empty[split] / total
        if empty[split] and share > limit:
            yield Hit(f"{empty[split]} of {total} images ({share:.0%}) have no instance, above {limit:.0%}",
                      split=split, details={"images": total, "without_instances": empty[split],
                                            "share": round(share, 6)})
