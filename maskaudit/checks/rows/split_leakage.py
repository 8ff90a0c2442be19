from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from maskaudit.checks.base import Family, Options, dataset_check
from maskaudit.checks.context import Context
from maskaudit.findings import Hit, Severity
from maskaudit.keys import Keys, compact, first_of, repeats
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
    keys = ctx.all_keys
    reported: set[int] = set()
    yield from _picture_leaks(ctx, keys, int(options["near_distance"]), reported)
    grouped = np.flatnonzero(keys.group != 0)
    leaking = _in_several_splits(keys.group[grouped], keys.split[grouped])
    members: dict[int, list[int]] = defaultdict(list)
    for index, label in zip(grouped[leaking[0]].tolist(), leaking[1].tolist(), strict=True):
        members[label].append(index)
    anchors = {}
    for indices in members.values():
        splits = _splits(ctx, keys, indices)
        home = _home(ctx, splits)
        anchors[indices[0]] = (splits, home, next(i for i in indices if ctx.split_names[keys.split[i]] == home))
    found = ctx.read([int(keys.row[i]) for indices in members.values() for i in indices])
    for indices in members.values():
        splits, home, anchor_index = anchors[indices[0]]
        anchor = found[int(keys.row[anchor_index])]
        for index in indices:
            row = found[int(keys.row[index])]
            split = ctx.split_of(row)
            if split == home or row.row in reported:
                continue
            reported.add(row.row)
            yield Hit(
                f"group {row.group!r} also appears in split {home!r} (row {anchor.row}, {anchor.image_path})",
                row=row.row, split=split, path=row.image_path,
                details={"kind": "group", "key": row.group, "home_split": home, "home_row": anchor.row,
                         "home_path": anchor.image_path, "splits": dict(splits)},
            )


def _in_several_splits(values: NDArray[Any], splits: NDArray[np.int32]) -> tuple[NDArray[np.bool_],
                                                                                NDArray[np.int64]]:
    """Which of the entries share their value with an entry of another split, and a number per value (the
    index of its first entry)."""
    if not values.size:
        return np.zeros(0, np.bool_), np.zeros(0, np.int64)
    labels = first_of(values)
    same_split = first_of(values, splits)
    several = np.zeros(values.size, np.bool_)
    several[labels[same_split != labels]] = True  # a value whose entries' splits differ
    chosen = several[labels]
    return chosen, labels[chosen]


def _splits(ctx: Context, keys: Keys, indices: list[int]) -> Counter[str]:
    names = ctx.split_names
    return Counter(names[number] for number in keys.split[indices].tolist())


def _home(ctx: Context, splits: Counter[str]) -> str:
    return max(splits, key=lambda s: (splits[s], -ctx.split_names.index(s)))


def _picture_leaks(ctx: Context, keys: Keys, near: int, reported: set[int]) -> Iterator[Hit]:
    joined, clusters = _clusters(keys, near)
    leaking, labels = _in_several_splits(clusters, keys.split[joined])
    members: dict[int, list[int]] = defaultdict(list)
    for index, label in zip(joined[leaking].tolist(), labels.tolist(), strict=True):
        members[label].append(index)
    matches: list[tuple[int, int, str, int, str, Counter[str]]] = []
    for indices in members.values():
        splits = _splits(ctx, keys, indices)
        home = _home(ctx, splits)
        at_home = [i for i in indices if ctx.split_names[keys.split[i]] == home]
        for index in indices:
            if ctx.split_names[keys.split[index]] == home:
                continue
            match = _closest(keys, index, at_home, near)
            if match is not None:
                matches.append((index, *match, home, splits))
    found = ctx.read([int(keys.row[i]) for m in matches for i in (m[0], m[1])])
    for index, other_index, kind, distance, home, splits in matches:
        row, other = found[int(keys.row[index])], found[int(keys.row[other_index])]
        reported.add(row.row)
        what = {"exact": "is an exact copy (same file bytes) of", "pixel-identical": "has the same pixels as",
                "near": f"is a near duplicate (perceptual hash {distance} bits apart) of"}[kind]
        yield Hit(
            f"image {what} row {other.row} ({other.image_path}) in split {home!r}",
            row=row.row, split=ctx.split_of(row), path=row.image_path,
            details={"kind": "image content", "match": kind, "distance": distance, "home_split": home,
                     "home_row": other.row, "home_path": other.image_path, "splits": dict(splits)},
        )


def _clusters(keys: Keys, near: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The rows that share their picture with another row (equal pixels, or perceptual hashes within `near`
    bits), in row order, and a cluster number for each."""
    pictured = compact(np.flatnonzero(keys.image))
    left, right, _ = repeats(keys.content[pictured])
    lefts, rights = [pictured[left]], [pictured[right]]
    hashed = pictured[keys.has_phash[pictured]]
    del pictured, left, right
    if near >= 0 and hashed.size > 1:
        values = keys.phash[hashed]
        left, right, representatives = repeats(values)  # representatives: each hash's first row, hashes sorted
        lefts.append(hashed[left])
        rights.append(hashed[right])
        distinct = values[representatives]
        del values, left, right
        a, b = near_pairs(distinct, near)
        del distinct
        lefts.append(hashed[representatives[a]])
        rights.append(hashed[representatives[b]])
    sources = np.concatenate(lefts).astype(np.int64)
    targets = np.concatenate(rights).astype(np.int64)
    joined = np.unique(np.concatenate([sources, targets]))
    if not joined.size:
        return joined, joined
    graph = coo_matrix((np.ones(sources.size, dtype=np.int8),
                        (np.searchsorted(joined, sources), np.searchsorted(joined, targets))),
                       shape=(joined.size, joined.size))
    _, labels = connected_components(graph, directed=False)
    clusters: NDArray[np.int64] = np.asarray(labels, dtype=np.int64)
    return joined, clusters


def _closest(keys: Keys, index: int, candidates: Sequence[int], near: int) -> tuple[int, str, int] | None:
    """The candidate that matches the row directly (exact first, then pixel-identical, then the nearest hash),
    or None when the row joined the cluster only through other rows."""
    chosen = np.array(candidates, dtype=np.int64)
    if keys.file_hash[index]:
        same = chosen[keys.file_hash[chosen] == keys.file_hash[index]]
        if same.size:
            return int(same[0]), "exact", 0
    same = chosen[keys.content[chosen] == keys.content[index]]
    if same.size:
        return int(same[0]), "pixel-identical", 0
    if not keys.has_phash[index] or near < 0:
        return None
    hashed = chosen[keys.has_phash[chosen]]
    if not hashed.size:
        return None
    found = distances(keys.phash[hashed], np.full(hashed.size, keys.phash[index], dtype=np.uint64))
    best = int(np.argmin(found))
    distance = int(found[best])
    return (int(hashed[best]), "near", distance) if distance <= near else None
