"""Choose the rows to replay (stratified by split, seeded) and load them as training would."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from maskaudit.limits import Limits
from maskaudit.loading import load
from maskaudit.measure import layout
from maskaudit.native_stderr import native_stderr_silenced
from maskaudit.replay.engine import Sample
from maskaudit.replay.preprocess import Preprocess


@dataclass(frozen=True)
class RowRef:
    row: int
    split: str | None
    image_path: str | None
    mask_path: str | None


def stratified(rows: Sequence[RowRef], count: int, seed: int) -> list[RowRef]:
    """`count` rows spread over splits in proportion to their size (each split at least one), in row order."""
    usable = [r for r in rows if r.image_path]
    if count <= 0 or not usable:
        return []
    if count >= len(usable):
        return sorted(usable, key=lambda r: r.row)
    groups: dict[str, list[RowRef]] = {}
    for ref in sorted(usable, key=lambda r: r.row):
        groups.setdefault(ref.split if ref.split is not None else "", []).append(ref)
    names = sorted(groups)
    quotas = {name: len(groups[name]) * count / len(usable) for name in names}
    given = {name: min(len(groups[name]), max(1, int(quotas[name]))) for name in names}
    order = sorted(names, key=lambda n: (-(quotas[n] - int(quotas[n])), n))
    while sum(given.values()) > count:
        largest = max(names, key=lambda n: (given[n], n))
        given[largest] -= 1
    position = 0
    while sum(given.values()) < count and position < 4 * len(order) + count:
        name = order[position % len(order)]
        if given[name] < len(groups[name]):
            given[name] += 1
        position += 1
    rng = np.random.default_rng(seed)
    chosen: list[RowRef] = []
    for name in names:
        members = groups[name]
        picks = rng.permutation(len(members))[: given[name]]
        chosen.extend(members[i] for i in picks)
    return sorted(chosen, key=lambda r: r.row)


class NotReplayed(Exception):
    """A sampled file that cannot be replayed; the message says why."""


def _load(path: str, root: Path, role: str, limits: Limits) -> NDArray[Any]:
    decoded, problem = load(path, root, role, limits)
    if decoded is None:
        raise NotReplayed(problem.message if problem is not None else f"no {role}")
    array, _spatial, channels = layout(decoded)
    if decoded.volume:
        raise NotReplayed("volumes are not replayed")
    if array.ndim == 3 and channels == 1:
        array = array[..., 0]
    return np.ascontiguousarray(array)


def load_samples(
    refs: Sequence[RowRef], root: Path, preprocess: Preprocess, limits: Limits = Limits()
) -> tuple[list[Sample], list[str]]:
    """Decoded samples, and one note per row that could not be used."""
    with native_stderr_silenced():
        return _load_samples(refs, root, preprocess, limits)


def _load_samples(
    refs: Sequence[RowRef], root: Path, preprocess: Preprocess, limits: Limits
) -> tuple[list[Sample], list[str]]:
    samples: list[Sample] = []
    skipped: list[str] = []
    for ref in refs:
        assert ref.image_path is not None
        try:
            image = preprocess(_load(ref.image_path, root, "image", limits))
        except NotReplayed as exc:
            skipped.append(f"row {ref.row}: image not replayed ({exc})")
            continue
        mask = None
        if ref.mask_path:
            try:
                mask = _mask_plane(_load(ref.mask_path, root, "mask", limits))
            except NotReplayed as exc:
                skipped.append(f"row {ref.row}: mask not replayed ({exc})")
            if mask is not None and mask.shape[:2] != image.shape[:2]:
                skipped.append(f"row {ref.row}: mask shape {mask.shape} differs from image; replayed without it")
                mask = None
        samples.append(Sample(ref.row, ref.split, image, mask))
    return samples, skipped


def _mask_plane(mask: NDArray[Any]) -> NDArray[Any] | None:
    if mask.ndim == 2:
        return mask
    if mask.ndim == 3 and all(np.array_equal(mask[..., 0], mask[..., c]) for c in range(1, mask.shape[2])):
        return np.ascontiguousarray(mask[..., 0])
    return None
