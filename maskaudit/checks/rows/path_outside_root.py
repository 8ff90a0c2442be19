import os
from collections.abc import Iterator

from maskaudit.checks.base import Family, Options, row_check
from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity


@row_check("R006", "path-outside-root", Severity.WARNING, Family.ROWS)
def path_outside_root(row: RowFacts, ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        Image or mask paths that lead outside the data root (`../` or an absolute path elsewhere), compared
        after normalising the path's text, without following symlinks. The root is --root, or the
        manifest's folder without it.

    Why it breaks training:
        The run reads files that are not part of the dataset: another project's data, a system file, or a
        copy that differs from the one reviewed. A manifest that escapes its root also breaks as soon as
        the dataset is moved or shared.

    How to fix:
        Pass --root to declare where the data lives, or rewrite the paths relative to it. To make such
        rows fail the gate, set the check's severity to error (--severity path-outside-root=error).
    """
    for role, path, root in (("image", row.image_path, row.image_outside_root),
                             ("mask", row.mask_path, row.mask_outside_root)):
        if path is not None and root is not None:
            target = os.path.normpath(os.path.join(root, os.path.expanduser(path)))
            where = "lies" if target == path else f"leads to {target},"
            yield Hit(f"{role} path {path} {where} outside the root {root}; pass --root to declare where the data "
                      f"lives", row=row.row, split=ctx.split_of(row), path=path,
                      details={"role": role, "root": root, "target": target})
