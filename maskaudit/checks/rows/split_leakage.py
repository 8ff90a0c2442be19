from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.facts import RowFacts
from maskaudit.findings import Hit, Severity
from maskaudit.near_duplicates import distances, near_pairs

NEAR_DISTANCE = 5


@dataset_check("R005", "split-leakage", Severity.ERROR, Family.ROWS, options={
    "near_distance": (NEAR_DISTANCE, "largest Hamming distance (of 63) between perceptual hashes of one picture; "
                                     "-1 matches pixel-identical images only"),
})
def split_leakage(ctx: Context, options: Options) -> Iterator[Hit]:
    """
    What it finds:
        The same picture, or the same group id (for example a patient), in more than one split. A picture
        matches as an exact copy (the same file bytes), pixel-identical (the same decoded pixels, whatever
        the file name or format) or near (a perceptual hash within near_distance bits, 5 of 63 by default:
        the same photograph re-encoded, such as PNG to JPEG at quality 90 or JPEG recompressed at 75).
        Matching pictures form clusters; each row outside the split that holds most of its cluster is
        reported with its closest match in that split, both rows and both paths named.

    Why it breaks training:
        The model is evaluated on what it trained on: a re-encoded copy is the same picture to a model, so
        validation scores are inflated and model selection picks the model that memorised best, which then
        fails on new patients or scenes.

    How to fix:
        Split by group (--group-col), not by row, and remove the reported rows from the evaluation split;
        the filtered manifest does so. Lower near_distance if distinct pictures of a very uniform dataset
        match (re-encodings measured 0 to 4 bits apart, distinct scenes 12 or more).
    """
    if not ctx.has_splits:
        return
    reported: set[int] = set()
    yield from _picture_leaks(ctx, int(options["near_distance"]), reported)
    by_group: dict[str, list[RowFacts]] = defaultdict(list)
    for row in ctx.rows:
        if row.group is not None:
            by_group[row.group].append(row)
    for key, rows in by_group.items():
        splits = Counter(ctx.split_of(r) for r in rows)
        if len(splits) < 2:
            continue
        home = _home(ctx, splits)
        anchor = next(r for r in rows if ctx.split_of(r) == home)
        for row in rows:
            split = ctx.split_of(row)
            if split == home or row.row in reported:
                continue
            reported.add(row.row)
            yield Hit(
                f"group {key!r} also appears in split {home!r} (row {anchor.row}, {anchor.image_path})",
                row=row.row, split=split, path=row.image_path,
                details={"kind": "group", "key": key, "home_split": home, "home_row": anchor.row,
                         "home_path": anchor.image_path, "splits": dict(splits)},
            )


def _home(ctx: Context, splits: Counter[str]) -> str:
    return max(splits, key=lambda s: (splits[s], -ctx.split_names.index(s)))


def _picture_leaks(ctx: Context, near: int, reported: set[int]) -> Iterator[Hit]:
    rows = [r for r in ctx.rows if r.image is not None]
    clusters = _clusters(rows, near)
    members: dict[int, list[RowFacts]] = defaultdict(list)
    for row, cluster in zip(rows, clusters, strict=True):
        members[cluster].append(row)
    for cluster_rows in members.values():
        splits = Counter(ctx.split_of(r) for r in cluster_rows)
        if len(splits) < 2:
            continue
        home = _home(ctx, splits)
        at_home = [r for r in cluster_rows if ctx.split_of(r) == home]
        for row in cluster_rows:
            if ctx.split_of(row) == home:
                continue
            match = _closest(row, at_home, near)
            if match is None:
                continue
            other, kind, distance = match
            reported.add(row.row)
            what = {"exact": "is an exact copy (same file bytes) of", "pixel-identical": "has the same pixels as",
                    "near": f"is a near duplicate (perceptual hash {distance} bits apart) of"}[kind]
            yield Hit(
                f"image {what} row {other.row} ({other.image_path}) in split {home!r}",
                row=row.row, split=ctx.split_of(row), path=row.image_path,
                details={"kind": "image content", "match": kind, "distance": distance, "home_split": home,
                         "home_row": other.row, "home_path": other.image_path, "splits": dict(splits)},
            )


def _clusters(rows: Sequence[RowFacts], near: int) -> list[int]:
    """A cluster number per row: rows joined by equal pixels or perceptual hashes within `near` bits."""
    count = len(rows)
    if count < 2:
        return list(range(count))
    left: list[int] = []
    right: list[int] = []
    first: dict[str, int] = {}
    for index, row in enumerate(rows):
        assert row.image is not None
        seen = first.setdefault(row.image.content_hash, index)
        if seen != index:
            left.append(seen)
            right.append(index)
    hashed = [i for i, r in enumerate(rows) if r.image is not None and r.image.phash is not None]
    if near >= 0 and len(hashed) > 1:
        values = np.array([rows[i].image.phash for i in hashed], dtype=np.uint64)  # type: ignore[union-attr]
        unique, inverse = np.unique(values, return_inverse=True)
        positions = np.array(hashed, dtype=np.int64)
        representative = np.full(unique.size, -1, dtype=np.int64)
        representative[inverse[::-1]] = positions[::-1]
        left.extend(representative[inverse].tolist())
        right.extend(positions.tolist())
        a, b = near_pairs(unique, near)
        left.extend(representative[a].tolist())
        right.extend(representative[b].tolist())
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(count, count))
    _, labels = connected_components(graph, directed=False)
    return [int(label) for label in labels]


def _closest(row: RowFacts, candidates: Sequence[RowFacts], near: int) -> tuple[RowFacts, str, int] | None:
    """The candidate that matches the row directly (exact first, then pixel-identical, then the nearest hash),
    or None when the row joined the cluster only through other rows."""
    image = row.image
    assert image is not None
    for other in candidates:
        if other.image is not None and image.file_hash and other.image.file_hash == image.file_hash:
            return other, "exact", 0
    for other in candidates:
        if other.image is not None and other.image.content_hash == image.content_hash:
            return other, "pixel-identical", 0
    if image.phash is None or near < 0:
        return None
    hashed = [r for r in candidates if r.image is not None and r.image.phash is not None]
    if not hashed:
        return None
    found = distances(np.array([r.image.phash for r in hashed], dtype=np.uint64),  # type: ignore[union-attr]
                      np.full(len(hashed), image.phash, dtype=np.uint64))
    best = int(np.argmin(found))
    distance = int(found[best])
    return (hashed[best], "near", distance) if distance <= near else None
