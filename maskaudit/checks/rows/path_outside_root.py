import os
from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.data_root import common_folder, within
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
    if root is None:
        return
    paths = [(row, role, path, target) for row in ctx.rows
             for role, path, target in (("image", row.image_path, row.image_outside_root),
                                        ("mask", row.mask_path, row.mask_outside_root))
             if path is not None]
    if not any(target for *_, target in paths):
        return
    if root.declared:
        folder, where = root.path, f"the root {root.path}"
    else:
        inside = os.path.join(root.path, "")
        folder = common_folder((target or inside for *_, target in paths), options["min_share"])
        if folder == os.sep:
            return  # the data is spread over the whole file system: nothing stands out
        where = f"the folder that holds the rest of the data ({folder}) and the manifest's folder ({root.path})"
    for row, role, path, target in paths:
        if target is None or within(target, folder):
            continue
        led = "lies" if target == path else f"leads to {target},"
        yield Hit(f"{role} path {path} {led} outside {where}; pass --root to declare where the data lives",
                  row=row.row, split=ctx.split_of(row), path=path,
                  details={"role": role, "root": root.path, "declared": root.declared, "data_folder": folder,
                           "target": target})
