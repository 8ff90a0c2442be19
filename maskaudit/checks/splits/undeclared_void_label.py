from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.facts import format_values, number
from maskaudit.findings import Hit, Severity


@dataset_check("S008", "undeclared-void-label", Severity.INFO, Family.SPLITS)
def undeclared_void_label(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Without declared labels: a value such as 255 (or the masks' dtype maximum) that is one of the
        dataset's labels, found next to other labels in most masks that hold it, as a VOC-style void rim
        is, while no --ignore-index names it. Said once for the dataset, not per mask.

    Why it breaks training:
        Unless the loss ignores it, the void rim is trained as a class of its own: cross-entropy with C
        classes raises on 255, and a model that learns it predicts rims around every object.

    How to fix:
        Declare it with --ignore-index 255 (and the loss's ignore_index) if it is a void label; if it is
        a real class, declare the labels with --labels.
    """
    inferred = ctx.inferred_labels
    if inferred is None:
        return
    beside_labels = ctx.totals.beside_labels
    for value in inferred.labels:
        holding = inferred.masks_with[value]
        if value in beside_labels and beside_labels[value] * 2 >= holding:
            others = tuple(v for v in inferred.labels if v not in (0.0, value))
            yield Hit(
                f"label {number(value)} occurs in {holding} of {inferred.masks} non-empty masks, beside labels "
                f"{format_values(others)} in {beside_labels[value]} of them, and is trained as a class: "
                f"declare --ignore-index {number(value)} if it is a void label",
                details={"label": number(value), "masks_with": holding, "beside_other_labels": beside_labels[value],
                         "non_empty_masks": inferred.masks,
                         "inferred_labels": [number(v) for v in inferred.labels]},
            )
