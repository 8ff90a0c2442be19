from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


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
    first: dict[tuple[str, str], RowFacts] = {}
    for row in ctx.rows:
        if row.image is None or row.image_path is None:
            continue
        key = (ctx.split_of(row), row.image.content_hash)
        earlier = first.setdefault(key, row)
        if earlier is row or earlier.image_path == row.image_path or earlier.image is None:
            continue
        exact = bool(row.image.file_hash) and row.image.file_hash == earlier.image.file_hash
        same_mask = row.mask is not None and earlier.mask is not None and \
            row.mask.content_hash == earlier.mask.content_hash
        what = "an exact copy (same file bytes)" if exact else "the same pixels"
        mask_note = "with the same mask" if same_mask else "with a different mask"
        yield Hit(f"image is {what} of row {earlier.row} ({earlier.image_path}), {mask_note}",
                  row=row.row, split=ctx.split_of(row), path=row.image_path,
                  details={"first_row": earlier.row, "first_path": earlier.image_path,
                           "match": "exact" if exact else "pixel-identical", "same_mask": same_mask})
