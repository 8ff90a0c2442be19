from collections import Counter, defaultdict
from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


@dataset_check("R005", "split-leakage", Severity.ERROR, Family.ROWS)
def split_leakage(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        The same image content (pixel for pixel, whatever the file name or format) or the same group id
        (for example a patient) in more than one split. Each leaked row outside the split that holds most
        of that image or group is reported.

    Why it breaks training:
        The model is evaluated on what it trained on: validation scores are inflated and model selection
        picks the model that memorised best, which then fails on new patients or scenes.

    How to fix:
        Split by group (--group-col), not by row, and remove the reported rows from the evaluation split;
        the filtered manifest does so.
    """
    if not ctx.has_splits:
        return
    reported: set[int] = set()
    by_content: dict[str, list[RowFacts]] = defaultdict(list)
    by_group: dict[str, list[RowFacts]] = defaultdict(list)
    for row in ctx.rows:
        if row.image is not None:
            by_content[row.image.content_hash].append(row)
        if row.group is not None:
            by_group[row.group].append(row)
    for kind, groups in (("image content", by_content), ("group", by_group)):
        for key, rows in groups.items():
            splits = Counter(ctx.split_of(r) for r in rows)
            if len(splits) < 2:
                continue
            home = max(splits, key=lambda s: (splits[s], -ctx.split_names.index(s)))
            anchor = next(r for r in rows if ctx.split_of(r) == home)
            for row in rows:
                split = ctx.split_of(row)
                if split == home or row.row in reported:
                    continue
                reported.add(row.row)
                label = f"group {key!r}" if kind == "group" else "the same image content"
                yield Hit(
                    f"{label} also appears in split {home!r} (row {anchor.row})",
                    row=row.row, split=split, path=row.image_path,
                    details={"kind": kind, "key": key, "home_split": home, "home_row": anchor.row,
                             "splits": dict(splits)},
                )
