"""Choose the rows to replay (stratified by split, seeded) and load them as training would."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from maskaudit.facts import Problem
from maskaudit.held_files import read_files
from maskaudit.limits import Limits
from maskaudit.loading import Read, decode
from maskaudit.manifest import Manifest
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


SAMPLE_CHUNK = 8
"""Sampled rows whose files are read together: at most this many rows' files are held (encoded) at once."""


def _array(outcome: tuple[Read | None, Problem | None], role: str, limits: Limits) -> NDArray[Any]:
    content, problem = outcome
    decoded, problem = decode(content, role, limits) if content is not None else (None, problem)
    if decoded is None:
        raise NotReplayed(problem.message if problem is not None else f"no {role}")
    array, _spatial, channels = layout(decoded)
    if decoded.volume:
        raise NotReplayed("volumes are not replayed")
    if array.ndim == 3 and channels == 1:
        array = array[..., 0]
    return np.ascontiguousarray(array)


def load_samples(
    refs: Sequence[RowRef], root: Path | str, preprocess: Preprocess, limits: Limits = Limits(),
    manifest: Manifest | None = None,
) -> tuple[list[Sample], list[str]]:
    """Decoded samples, and one note per row that could not be used. The files are read as the scan named them:
    with the manifest, members of its shards and cells of its parquet are read from it."""
    with native_stderr_silenced():
        samples: list[Sample] = []
        skipped: list[str] = []
        for start in range(0, len(refs), SAMPLE_CHUNK):
            chunk = refs[start:start + SAMPLE_CHUNK]
            contents = read_files([r.image_path for r in chunk] + [r.mask_path for r in chunk],
                                  ["image"] * len(chunk) + ["mask"] * len(chunk), root, limits, manifest)
            for position, ref in enumerate(chunk):
                sample = _sample(ref, contents[position], contents[len(chunk) + position], preprocess, limits,
                                 skipped)
                if sample is not None:
                    samples.append(sample)
        return samples, skipped


def _sample(ref: RowRef, image_file: tuple[Read | None, Problem | None], mask_file: tuple[Read | None, Problem | None],
            preprocess: Preprocess, limits: Limits, skipped: list[str]) -> Sample | None:
    assert ref.image_path is not None
    try:
        image = preprocess(_array(image_file, "image", limits))
    except NotReplayed as exc:
        skipped.append(f"row {ref.row}: image not replayed ({exc})")
        return None
    mask = None
    if ref.mask_path:
        try:
            mask = _mask_plane(_array(mask_file, "mask", limits))
        except NotReplayed as exc:
            skipped.append(f"row {ref.row}: mask not replayed ({exc})")
        if mask is not None and mask.shape[:2] != image.shape[:2]:
            skipped.append(f"row {ref.row}: mask shape {mask.shape} differs from image; replayed without it")
            mask = None
    return Sample(ref.row, ref.split, image, mask)


def _mask_plane(mask: NDArray[Any]) -> NDArray[Any] | None:
    if mask.ndim == 2:
        return mask
    if mask.ndim == 3 and all(np.array_equal(mask[..., 0], mask[..., c]) for c in range(1, mask.shape[2])):
        return np.ascontiguousarray(mask[..., 0])
    return None
