from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.findings import Hit, Severity


@dataset_check("R004", "duplicate-row", Severity.WARNING, Family.ROWS)
def duplicate_row(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Rows that repeat an earlier row's image path, or its image and mask pair.

    Why it breaks training:
        Repeated rows are sampled more often than the rest, silently reweighting the data; repeated pairs
        across a split boundary inflate validation scores.

    How to fix:
        Deduplicate the manifest (keep the first occurrence), or weight samples explicitly if the repetition
        was meant as oversampling.
    """
    first_image: dict[str, int] = {}
    first_pair: dict[tuple[str, str], int] = {}
    for row in ctx.rows:
        if row.image_path is None:
            continue
        if row.mask_path is not None:
            pair = (row.image_path, row.mask_path)
            if pair in first_pair:
                yield Hit(f"repeats the image and mask of row {first_pair[pair]}", row=row.row,
                          split=ctx.split_of(row), path=row.image_path,
                          details={"first_row": first_pair[pair], "kind": "image+mask"})
                continue
            first_pair[pair] = row.row
        if row.image_path in first_image:
            yield Hit(f"repeats the image of row {first_image[row.image_path]} with another mask",
                      row=row.row, split=ctx.split_of(row), path=row.image_path,
                      details={"first_row": first_image[row.image_path], "kind": "image"})
        else:
            first_image[row.image_path] = row.row
