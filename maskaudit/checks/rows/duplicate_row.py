from collections.abc import Iterator

import numpy as np

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.findings import Hit, Severity
from maskaudit.keys import pair_digest, repeats


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
    keys = ctx.all_keys
    named = np.flatnonzero((keys.image_path != 0) & (keys.mask_path != 0))
    pair_first, pair_later, _ = repeats(pair_digest(keys.image_path[named], keys.mask_path[named]))
    pair_first, pair_later = named[pair_first], named[pair_later]
    named = np.flatnonzero(keys.image_path != 0)
    image_first, image_later, _ = repeats(keys.image_path[named])
    image_first, image_later = named[image_first], named[image_later]
    alone = ~np.isin(image_later, pair_later)  # a repeated pair is said as such, not as a repeated image
    flagged = np.concatenate([pair_later, image_later[alone]])
    earlier = np.concatenate([pair_first, image_first[alone]])
    repeats_pair = np.zeros(keys.size, np.bool_)
    repeats_pair[pair_later] = True
    found = ctx.read(keys.row[np.concatenate([flagged, earlier])].tolist())
    for index, first_index in zip(flagged.tolist(), earlier.tolist(), strict=True):
        row, first = found[int(keys.row[index])], found[int(keys.row[first_index])]
        if row.image_path != first.image_path:
            continue  # two paths whose 64-bit digests collide
        if repeats_pair[index]:
            if row.mask_path != first.mask_path:
                continue
            yield Hit(f"repeats the image and mask of row {first.row}", row=row.row, split=ctx.split_of(row),
                      path=row.image_path, details={"first_row": first.row, "kind": "image+mask"})
        else:
            yield Hit(f"repeats the image of row {first.row} with another mask", row=row.row,
                      split=ctx.split_of(row), path=row.image_path, details={"first_row": first.row, "kind": "image"})
