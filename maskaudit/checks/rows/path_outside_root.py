import os
from collections.abc import Iterator

import numpy as np

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.data_root import weighted_common_folder, within
from maskaudit.findings import Hit, Severity


@dataset_check("R006", "path-outside-root", Severity.WARNING, Family.ROWS, options={
    "min_share": (0.9, "without --root: share of all paths the folder holding the data must hold"),
})
def path_outside_root(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Image or mask paths that lead outside the data (`../` climbing out, or an absolute path into /etc or
        /proc), compared after normalising the path's text, without following symlinks. With --root, every
        path outside it. Without --root, paths outside both the manifest's folder and the folder that holds
        the rest of the data (the deepest folder holding 90% of all paths), so a manifest kept in a
        `splits/` folder beside `images/` stays silent.

    Why it breaks training:
        The run reads files that are not part of the dataset: another project's data, a system file, or a
        copy that differs from the one reviewed. A manifest that escapes its root also breaks as soon as
        the dataset is moved or shared.

    How to fix:
        Pass --root to declare where the data lives, or rewrite the paths relative to it. To make such
        rows fail the gate, set the check's severity to error (--severity path-outside-root=error).
    """
    root = ctx.root
    outside = ctx.totals.outside
    if root is None or not outside:
        return
    if root.declared:
        folder, where = root.path, f"the root {root.path}"
    else:
        folder = _data_folder(ctx, os.path.join(root.path, ""), options["min_share"])
        if folder == os.sep:
            return  # the data is spread over the whole file system: nothing stands out
        where = f"the folder that holds the rest of the data ({folder}) and the manifest's folder ({root.path})"
    found = ctx.read(sorted({row for row, *_ in outside}))
    for number, role, path, target in outside:
        if within(target, folder):
            continue
        row = found[number]
        led = "lies" if target == path else f"leads to {target},"
        yield Hit(f"{role} path {path} {led} outside {where}; pass --root to declare where the data lives",
                  row=row.row, split=ctx.split_of(row), path=path,
                  details={"role": role, "root": root.path, "declared": root.declared, "data_folder": folder,
                           "target": target})


def _data_folder(ctx: Context, inside: str, min_share: float) -> str:
    """The folder common_folder finds over every path's location (its target outside the root, else the root),
    from the few targets and the count of paths inside: each location weighted by how often it occurs, in order
    of first occurrence."""
    keys = ctx.all_keys
    named = np.stack([keys.image_path != 0, keys.mask_path != 0], axis=1).ravel()  # (row, role) order
    outside = ctx.totals.outside
    at = np.searchsorted(keys.row, np.array([number for number, *_ in outside], dtype=np.int64)).tolist()
    positions = {index * 2 + (role == "mask"): target for index, (_, role, _, target) in zip(at, outside, strict=True)}
    weights: dict[str, list[int]] = {}
    for position, target in sorted(positions.items()):
        entry = weights.setdefault(target, [0, position])
        entry[0] += 1
    inside_at = np.flatnonzero(named & ~np.isin(np.arange(named.size), list(positions)))
    if inside_at.size:
        weights.setdefault(inside, [0, int(inside_at[0])])[0] += int(inside_at.size)
    ordered = sorted(weights.items(), key=lambda item: item[1][1])
    return weighted_common_folder([(location, count) for location, (count, _) in ordered], min_share)
