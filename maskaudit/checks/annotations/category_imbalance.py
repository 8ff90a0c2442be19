from collections.abc import Iterator

import numpy as np

from maskaudit.annotations.columns import factorize
from maskaudit.annotations.context import AnnotationContext, annotation_check
from maskaudit.annotations.facts import InputKind
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
    usable = ctx.usable_annotations
    split_numbers, names = ctx.annotation_split
    categories, category_keys = factorize(ctx.annotations.category_id[usable])
    images, _ = factorize(ctx.annotations.image_id[usable])
    pair = split_numbers[usable] * max(1, len(category_keys)) + categories
    pairs, first, instances = np.unique(pair, return_index=True, return_counts=True)
    with_images = np.unique(np.stack([pair, images], axis=1), axis=0)[:, 0] if len(pair) else pair
    image_counts = dict(zip(*np.unique(with_images, return_counts=True), strict=True))
    counted: dict[str, dict[int, tuple[int, int, int]]] = {}  # split -> category -> (instances, images, first)
    for code, at, count in zip(pairs.tolist(), first.tolist(), instances.tolist(), strict=True):
        split, category = divmod(code, max(1, len(category_keys)))
        counted.setdefault(names[split], {})[category] = (count, int(image_counts[code]), at)
    code_of = {key: code for code, key in enumerate(category_keys)}
    splits = {image.split: image.source for image in ctx.usable_images}
    for split, source in splits.items():
        counts = counted.get(split, {})
        top = min(counts.items(), key=lambda item: (-item[1][0], item[1][2]), default=None)
        largest = (category_keys[top[0]], top[1][0]) if top is not None else None
        for category in ctx.category_ids.get(source, {}).values():
            count, images_with, _ = counts.get(code_of.get(category.id, -1), (0, 0, 0))
            if count >= minimum:
                continue
            details = {"category_id": category.id, "category": category.name, "instances": count,
                       "images": images_with, "min_instances": minimum,
                       "largest": None if largest is None else {"category_id": largest[0], "instances": largest[1]}}
            name = f"category {category.id!r} ({category.name})"
            if count == 0:
                yield Hit(f"{name} has no instance in split {split!r}", split=split, details=details)
            else:
                than = f"; the largest has {largest[1]}" if largest is not None else ""
                yield Hit(f"{name} has {count} instance(s) on {details['images']} image(s), below {minimum}{than}",
                          split=split, details=details)
