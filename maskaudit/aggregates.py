"""What the checks across rows and the split checks need beyond the keys: totals that merge across partitions.

A partition's aggregates are built in the map; the reduce merges them in partition order, so every total
and every first-seen order is what one pass over the whole manifest would give.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from maskaudit.checks.images.loader_disagreement import EXAMPLES, trait_keys
from maskaudit.facts import RowFacts
from maskaudit.header import PLAIN
from maskaudit.keys import SCALES, Keys, MaskKind, label_map


@dataclass(frozen=True)
class Aggregates:
    """Totals over some rows. Split and kind numbers index ``split_names`` and ``kinds``."""

    split_names: tuple[str, ...] = ()
    kinds: tuple[tuple[str, int, str], ...] = ()
    # per split number: label pixels of single-channel masks, over rows no check of their own row dropped
    label_pixels: tuple[dict[float, int], ...] = ()
    mask_dtypes: dict[str, int] = field(default_factory=dict)
    trait_files: dict[tuple[str, str], int] = field(default_factory=dict)
    trait_examples: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    # over label maps: what the dataset's labels are inferred from
    masks_with: dict[float, int] = field(default_factory=dict)  # non-empty label maps holding each value
    non_empty_masks: int = 0
    holding_ignore: int = 0  # non-empty label maps holding the ignore index
    beside_labels: dict[float, int] = field(default_factory=dict)  # void-like values beside other labels
    scales: dict[str, int] = field(default_factory=dict)
    # (row, role, path, target) of every path that leads outside the root, in row order
    outside: tuple[tuple[int, str, str, str], ...] = ()


def label_contribution(row: RowFacts, ignore_index: float | None) -> Iterator[tuple[float, int]]:
    """The label pixels a row adds to its split's histogram."""
    mask = row.mask
    if mask is None or mask.is_multichannel:
        return
    for value, count in zip(mask.values, mask.counts, strict=True):
        if value != ignore_index and value == value:
            yield value, count


def build_aggregates(rows: Sequence[RowFacts], keys: Keys, split_names: tuple[str, ...],
                     kinds: tuple[tuple[str, int, str], ...], ignore_index: float | None,
                     labels: tuple[int, ...] | None) -> Aggregates:
    """The totals of consecutive rows, from their facts and their keys (split numbers, dropped rows, which masks
    are label maps and which have foreground)."""
    label_pixels: list[dict[float, int]] = [{} for _ in split_names]
    dtypes: dict[str, int] = {}
    files: dict[tuple[str, str], int] = {}
    examples: dict[tuple[str, str], list[str]] = {}
    masks_with: dict[float, int] = {}
    beside: dict[float, int] = {}
    scales: dict[str, int] = {}
    non_empty = holding = 0
    outside: list[tuple[int, str, str, str]] = []
    label_maps = (keys.mask_kind == MaskKind.LABEL_MAP).tolist()
    for row, split, gone, label_map_, filled in zip(rows, keys.split.tolist(), keys.dropped.tolist(), label_maps,
                                                     keys.non_empty.tolist(), strict=True):
        if row.image_outside_root is not None or row.mask_outside_root is not None:
            for role, path, target in (("image", row.image_path, row.image_outside_root),
                                       ("mask", row.mask_path, row.mask_outside_root)):
                if path is not None and target is not None:
                    outside.append((row.row, role, path, target))
        for role, facts, path in (("image", row.image, row.image_path), ("mask", row.mask, row.mask_path)):
            if facts is None or facts.traits is PLAIN:  # most files: nothing loaders differ on
                continue
            for key in trait_keys(role, facts):
                files[key] = files.get(key, 0) + 1
                shown = examples.setdefault(key, [])
                if len(shown) < EXAMPLES and path is not None:
                    shown.append(path)
        mask = row.mask
        if mask is None:
            continue
        dtypes[mask.dtype] = dtypes.get(mask.dtype, 0) + 1
        if not gone and not mask.is_multichannel:
            pixels = label_pixels[split]
            for value, count in zip(mask.values, mask.counts, strict=True):
                if value != ignore_index and value == value:
                    pixels[value] = pixels.get(value, 0) + count
        if not label_map_:
            continue
        traits = label_map(mask, ignore_index, labels)
        scale = SCALES[traits.scale]
        if scale is not None:
            scales[scale] = scales.get(scale, 0) + 1
        if not filled:
            continue
        non_empty += 1
        holding += traits.holding_ignore
        for value in traits.labels:
            masks_with[value] = masks_with.get(value, 0) + 1
        for value in traits.beside:
            beside[value] = beside.get(value, 0) + 1
    return Aggregates(
        split_names, kinds, tuple(label_pixels), dtypes, files, {k: tuple(v) for k, v in examples.items()},
        masks_with, non_empty, holding, beside, scales, tuple(outside),
    )


def _add(into: dict[object, int], other: dict[object, int]) -> None:
    for key, value in other.items():
        into[key] = into.get(key, 0) + value


class Merged:
    """Aggregates merged partition by partition, in order: split and kind numbers become global."""

    def __init__(self) -> None:
        self.split_names: dict[str, int] = {}
        self.kinds: dict[tuple[str, int, str], int] = {}
        self.label_pixels: list[dict[float, int]] = []
        self.mask_dtypes: dict[str, int] = {}
        self.trait_files: dict[tuple[str, str], int] = {}
        self.trait_examples: dict[tuple[str, str], list[str]] = {}
        self.masks_with: dict[float, int] = {}
        self.non_empty_masks = 0
        self.holding_ignore = 0
        self.beside_labels: dict[float, int] = {}
        self.scales: dict[str, int] = {}
        self.outside: list[tuple[int, str, str, str]] = []

    def add(self, part: Aggregates) -> tuple[list[int], list[int]]:
        """Merge a partition's aggregates; its split and kind numbers' global numbers."""
        splits = [self.split_names.setdefault(name, len(self.split_names)) for name in part.split_names]
        kinds = [self.kinds.setdefault(kind, len(self.kinds)) for kind in part.kinds]
        while len(self.label_pixels) < len(self.split_names):
            self.label_pixels.append({})
        for local, pixels in enumerate(part.label_pixels):
            _add(self.label_pixels[splits[local]], pixels)  # type: ignore[arg-type]
        _add(self.mask_dtypes, part.mask_dtypes)  # type: ignore[arg-type]
        _add(self.trait_files, part.trait_files)  # type: ignore[arg-type]
        for key, paths in part.trait_examples.items():
            shown = self.trait_examples.setdefault(key, [])
            shown.extend(paths[: EXAMPLES - len(shown)])
        _add(self.masks_with, part.masks_with)  # type: ignore[arg-type]
        self.non_empty_masks += part.non_empty_masks
        self.holding_ignore += part.holding_ignore
        _add(self.beside_labels, part.beside_labels)  # type: ignore[arg-type]
        _add(self.scales, part.scales)  # type: ignore[arg-type]
        self.outside.extend(part.outside)
        return splits, kinds

    def result(self) -> Aggregates:
        return Aggregates(
            tuple(self.split_names), tuple(self.kinds), tuple(self.label_pixels), self.mask_dtypes,
            self.trait_files, {k: tuple(v) for k, v in self.trait_examples.items()}, self.masks_with,
            self.non_empty_masks, self.holding_ignore, self.beside_labels, self.scales, tuple(self.outside),
        )
