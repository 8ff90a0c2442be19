from collections.abc import Iterator

import numpy as np

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.findings import Hit, Severity
from maskaudit.keys import repeats


@dataset_check("R007", "duplicate-image", Severity.WARNING, Family.ROWS)
def duplicate_image(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        The same image under two names in one split: an exact copy (the same file bytes) or the same
        decoded pixels in another file or format. The later row is reported with the earlier one, both
        paths named, and whether its mask differs. A repeated path is duplicate-row's (the manifest repeats
        a row; here the data holds two files), and a copy in another split is split-leakage's. Near
        duplicates within a split (consecutive video frames, a re-encoded copy) are not reported: they are
        normal in a training set.

    Why it breaks training:
        The picture is sampled twice as often as the rest, silently reweighting the data; with two
        different masks the model is taught two answers for one input.

    How to fix:
        Delete one of the files (keep the one whose mask is right) and its row, or weight samples
        explicitly if the repetition was meant as oversampling.
    """
    keys = ctx.all_keys
    usable = keys.image & (keys.image_path != 0)
    positions = np.flatnonzero(usable)
    first, later, _ = repeats(keys.split[positions], keys.content[positions])
    earlier, flagged = positions[first], positions[later]
    other_path = keys.image_path[earlier] != keys.image_path[flagged]
    earlier, flagged = earlier[other_path], flagged[other_path]
    found = ctx.read(keys.row[np.concatenate([flagged, earlier])].tolist())
    for index, first_index in zip(keys.row[flagged].tolist(), keys.row[earlier].tolist(), strict=True):
        row, before = found[index], found[first_index]
        if row.image is None or before.image is None or row.image.content_hash != before.image.content_hash:
            continue  # two pictures whose 64-bit digests collide
        exact = bool(row.image.file_hash) and row.image.file_hash == before.image.file_hash
        same_mask = row.mask is not None and before.mask is not None and \
            row.mask.content_hash == before.mask.content_hash
        what = "an exact copy (same file bytes)" if exact else "the same pixels"
        mask_note = "with the same mask" if same_mask else "with a different mask"
        yield Hit(f"image is {what} of row {before.row} ({before.image_path}), {mask_note}",
                  row=row.row, split=ctx.split_of(row), path=row.image_path,
                  details={"first_row": before.row, "first_path": before.image_path,
                           "match": "exact" if exact else "pixel-identical", "same_mask": same_mask})
