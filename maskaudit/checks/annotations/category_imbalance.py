from collections import Counter, defaultdict
from collections.abc import Iterator

from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.annotations.facts import InputKind, Key
from maskaudit.checks.base import Options
from maskaudit.findings import Hit, Severity


@annotation_check("A012", "category-imbalance", Severity.WARNING, kept=True, options={
    "min_instances": (10, "instances of a category in a split below which it is reported"),
})
def category_imbalance(ctx: AnnotationContext, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Categories with fewer than min_instances instances (10 by default) in a split, and categories with
        no instance at all in a split, counted over what the filtered file keeps. Each finding gives the
        category's instances and images and the split's largest category.

    Why it breaks training:
        A classifier head sees the rare category too seldom to learn it and a category absent from a split
        is never trained on (train) or never evaluated (val): its AP is undefined or zero, and the mean
        over categories is computed over another set than intended.

    How to fix:
        Collect or oversample the rare categories (repeat-factor sampling, as LVIS does), move images
        between splits so every category appears in each, or merge or remove the category.
    """
    if ctx.data.kind is not InputKind.COCO:
        return
    minimum = int(options["min_instances"])
    instances: dict[str, Counter[Key]] = defaultdict(Counter)
    images: dict[str, defaultdict[Key, set[Key]]] = defaultdict(lambda: defaultdict(set))
    for annotation in ctx.usable_annotations:
        split = ctx.split_of(annotation)
        instances[split][annotation.category_id] += 1
        images[split][annotation.category_id].add(annotation.image_id)
    splits = {image.split: image.source for image in ctx.usable_images}
    for split, source in splits.items():
        counts = instances[split]
        largest = counts.most_common(1)[0] if counts else None
        for category in ctx.category_ids.get(source, {}).values():
            count = counts[category.id]
            if count >= minimum:
                continue
            details = {"category_id": category.id, "category": category.name, "instances": count,
                       "images": len(images[split][category.id]), "min_instances": minimum,
                       "largest": None if largest is None else {"category_id": largest[0], "instances": largest[1]}}
            name = f"category {category.id!r} ({category.name})"
            if count == 0:
                yield Hit(f"{name} has no instance in split {split!r}", split=split, details=details)
            else:
                than = f"; the largest has {largest[1]}" if largest is not None else ""
                yield Hit(f"{name} has {count} instance(s) on {details['images']} image(s), below {minimum}{than}",
                          split=split, details=details)
