"""Compact per-row keys for the checks across rows: fixed-width numpy columns, a few tens of bytes a row.

A partition's rows become one ``Keys`` table in the map; the reduce concatenates them and holds nothing else
per row. Hashes are 64-bit (0 where the row has no such value); paths and messages are read back from the
facts file for the few rows a check reports.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from maskaudit.checks.context import MISSING_SPLIT, NO_SPLIT, MaskScale, is_fractional, looks_like_image, mask_scale
from maskaudit.checks.dtypes import void_values
from maskaudit.facts import Encoding, ImageFacts, MaskFacts, RowFacts

SCALES = (None, MaskScale.INDEX, MaskScale.BYTE, MaskScale.WORD)
ENCODINGS = tuple(Encoding)
ENCODING_INDEX = {encoding: i for i, encoding in enumerate(ENCODINGS)}


class MaskKind:
    NONE = 0
    LABEL_MAP = 1  # single channel, a label map
    PICTURE = 2  # single channel, a picture passed as a mask
    COLOUR = 3  # several channels that differ


def hash64(text: str | None) -> int:
    """A nonzero 64-bit digest of a text; 0 for None."""
    if text is None:
        return 0
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") | 1


def hex64(digest: str) -> int:
    """The first 64 bits of a hex digest, nonzero; 0 for an empty digest."""
    if not digest:
        return 0
    if len(digest) < 16:  # not a full digest: digest the text itself
        return hash64(digest)
    try:
        return int(digest[:16], 16) or 1
    except ValueError:  # not hex: digest the text itself
        return hash64(digest)


PAIR_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd: distinct first digests stay distinct


def pair_digest(first: NDArray[np.uint64], second: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """One 64-bit digest of two digests each: equal pairs give equal digests, and one sort finds them (unequal
    pairs that collide are told apart by reading the rows back, as for any 64-bit digest)."""
    mixed: NDArray[np.uint64] = first * PAIR_MULTIPLIER + second
    return mixed


@dataclass(frozen=True)
class Keys:
    """One entry per row, in manifest order."""

    row: NDArray[np.int64]
    split: NDArray[np.int32]  # index into the split names
    dropped: NDArray[np.bool_]  # dropped by a check of its own row (an error, or --drop)
    image_path: NDArray[np.uint64]
    mask_path: NDArray[np.uint64]
    group: NDArray[np.uint64]
    content: NDArray[np.uint64]
    file_hash: NDArray[np.uint64]
    phash: NDArray[np.uint64]
    has_phash: NDArray[np.bool_]
    image_kind: NDArray[np.int32]  # index into the (dtype, channels, encoding) kinds; -1 without an image
    encoding: NDArray[np.int8]  # index into ENCODINGS; -1 without an image
    minimum: NDArray[np.float64]  # NaN without an image, or when the image has no finite pixel
    maximum: NDArray[np.float64]
    mean: NDArray[np.float64]
    std: NDArray[np.float64]
    mask_kind: NDArray[np.int8]
    non_empty: NDArray[np.bool_]  # a single-channel mask with foreground
    share: NDArray[np.float64]  # foreground over labelled pixels of a single-channel mask (0 when none labelled)
    scale: NDArray[np.int8]  # index into SCALES, for label maps
    negative: NDArray[np.bool_]  # a label map with a negative integer label (not the ignore index)
    high: NDArray[np.float64]  # the greatest integer label of a label map (not the ignore index)
    only_ignore: NDArray[np.bool_]  # a label map holding only background and a void-like ignore index
    undeclared: NDArray[np.bool_]  # a label map holding a value outside the declared labels

    @property
    def size(self) -> int:
        return int(self.split.size)

    @property
    def image(self) -> NDArray[np.bool_]:
        """The image was measured."""
        measured: NDArray[np.bool_] = self.encoding >= 0
        return measured

    @property
    def finite(self) -> NDArray[np.bool_]:
        """The image has a finite pixel."""
        finite: NDArray[np.bool_] = ~np.isnan(self.minimum)
        return finite

    def nbytes(self) -> int:
        return sum(getattr(self, f.name).nbytes for f in fields(self))

    def renumbered(self, splits: NDArray[np.int32], kinds: NDArray[np.int32]) -> Keys:
        """These keys with split and image-kind numbers mapped through the given tables (local to global)."""
        kind = np.where(self.image_kind >= 0, kinds[np.maximum(self.image_kind, 0)] if kinds.size else -1, -1)
        return replace(self, split=splits[self.split] if splits.size else self.split,
                       image_kind=kind.astype(np.int32))


Positions = NDArray[np.int32] | NDArray[np.int64]


def compact(indices: NDArray[np.int64]) -> Positions:
    """Indices in 32 bits when they fit (half the memory of a table of positions over millions of rows)."""
    if int(indices.max(initial=0)) < 2**31:
        return indices.astype(np.int32)
    return indices


def repeats(*columns: NDArray[Any]) -> tuple[Positions, Positions, Positions]:
    """Entries repeating an earlier entry's values in every column: (first, later) index pairs, later ascending;
    and the index of each distinct value's first entry, in the values' sorted order. One stable sort; nothing
    else as long as the entries."""
    count = columns[0].size
    order = compact(np.lexsort(columns[::-1]) if len(columns) > 1 else np.argsort(columns[0], kind="stable"))
    same = np.ones(max(count - 1, 0), np.bool_)
    for column in columns:
        ordered = column[order]
        same &= ordered[1:] == ordered[:-1]
        del ordered
    firsts = order[np.concatenate([[True], ~same])] if count else order
    later_at = np.flatnonzero(same) + 1
    if not later_at.size:
        return later_at, later_at, firsts
    starts = np.flatnonzero(np.concatenate([[True], ~same]))
    first_at = starts[np.searchsorted(starts, later_at, side="right") - 1]
    first, later = order[first_at], order[later_at]
    by_row = np.argsort(later, kind="stable")
    return first[by_row], later[by_row], firsts


def first_of(*columns: NDArray[Any]) -> NDArray[np.int64]:
    """Per entry, the index of the first entry holding the same values in every column."""
    count = columns[0].size
    order = np.lexsort(columns[::-1]) if len(columns) > 1 else np.argsort(columns[0], kind="stable")
    starts = np.ones(count, np.bool_)
    for column in columns:
        ordered = column[order]
        starts[1:] &= ordered[1:] == ordered[:-1]
    starts[1:] = ~starts[1:]  # a new value starts where any column changes
    head = np.maximum.accumulate(np.where(starts, np.arange(count), 0))
    first = np.empty(count, np.int64)
    first[order] = order[head]
    return first


class KeysBuffer:
    """Partitions' keys appended in order into one table, its columns allocated for the expected rows (and
    doubled when more come): the table is never held twice."""

    def __init__(self, expected_rows: int = 0) -> None:
        self._columns = {f.name: getattr(EMPTY, f.name) for f in fields(Keys)}
        self._capacity = 0
        self._size = 0
        self._expected = expected_rows

    def append(self, part: Keys) -> None:
        end = self._size + part.size
        if end > self._capacity:
            self._capacity = max(end, self._expected, 2 * self._capacity)
            for name, column in self._columns.items():
                grown = np.empty(self._capacity, column.dtype)
                grown[: self._size] = column[: self._size]
                self._columns[name] = grown
        for name, column in self._columns.items():
            column[self._size:end] = getattr(part, name)
        self._size = end

    def keys(self) -> Keys:
        return Keys(**{name: column[: self._size] for name, column in self._columns.items()})


@dataclass(frozen=True)
class LabelMap:
    """What a label map's values say, the same for every mask that holds those values: worked out once per
    distinct (values, dtype) in a run, not once a row."""

    scale: int  # index into SCALES
    negative: bool
    high: float
    only_ignore: bool
    undeclared: bool
    labels: tuple[float, ...]  # its values but the ignore index and NaN
    holding_ignore: bool
    beside: tuple[float, ...]  # void-like values it holds beside other labels


LABEL_MAPS = 4096  # distinct (values, dtype, settings) remembered: label maps repeat a few sets of values
MEMO_VALUES = 16  # masks with more values (instance maps) are rarely alike: worked out each time, not held
_label_maps: dict[tuple[tuple[float, ...], str, float | None, tuple[int, ...] | None], LabelMap] = {}


def label_map(mask: MaskFacts, ignore_index: float | None, labels: tuple[int, ...] | None) -> LabelMap:
    """What the values of a single-channel mask that is no picture say, remembered by values and dtype when
    it holds few values."""
    if len(mask.values) > MEMO_VALUES:
        return _label_map(mask, ignore_index, labels)
    key = (mask.values, mask.dtype, ignore_index, labels)
    known = _label_maps.get(key)
    if known is None:
        if len(_label_maps) >= LABEL_MAPS:
            _label_maps.clear()
        known = _label_maps[key] = _label_map(mask, ignore_index, labels)
    return known


def _label_map(mask: MaskFacts, ignore_index: float | None, labels: tuple[int, ...] | None) -> LabelMap:
    values = mask.values
    integers = [v for v in values if v != ignore_index and v == v and not is_fractional(v)]
    allowed = None if labels is None else {float(v) for v in labels} | (
        {ignore_index} if ignore_index is not None else set())
    beside = tuple(value for value in void_values(list(values), mask.dtype)
                   if value != ignore_index and any(v not in (0.0, value, ignore_index) for v in values))
    return LabelMap(
        scale=SCALES.index(mask_scale(mask, ignore_index)),
        negative=bool(integers) and min(integers) < 0,
        high=max(integers) if integers else -np.inf,
        only_ignore=(ignore_index is not None and ignore_index in values
                     and all(v in (0.0, ignore_index) for v in values)
                     and bool(void_values([ignore_index], mask.dtype))),
        undeclared=allowed is not None and any(v not in allowed for v in values),
        labels=tuple(v for v in values if v != ignore_index and v == v),
        holding_ignore=ignore_index is not None and ignore_index in values,
        beside=beside,
    )


def build_keys(rows: Sequence[RowFacts], splits: dict[str, int],
               kinds: dict[tuple[str, int, str], int], ignore_index: float | None,
               labels: tuple[int, ...] | None, dropped: frozenset[int], has_splits: bool) -> Keys:
    """The keys of consecutive rows, built a column at a time. ``splits`` and ``kinds`` are filled with the
    names and image kinds met, numbered in order of first appearance."""
    count = len(rows)
    row = np.fromiter([r.row for r in rows], np.int64, count)
    names = ([r.split if r.split is not None else MISSING_SPLIT for r in rows] if has_splits
             else [NO_SPLIT] * count)
    split = np.array([splits.setdefault(name, len(splits)) for name in names], np.int32)
    gone = np.isin(row, np.fromiter(dropped, np.int64, len(dropped))) if dropped else np.zeros(count, np.bool_)
    image_path = np.fromiter([hash64(r.image_path) for r in rows], np.uint64, count)
    mask_path = np.fromiter([hash64(r.mask_path) for r in rows], np.uint64, count)
    group = np.fromiter([hash64(r.group) for r in rows], np.uint64, count)

    content, file_hash, phash = (np.zeros(count, np.uint64) for _ in range(3))
    has_phash = np.zeros(count, np.bool_)
    image_kind = np.full(count, -1, np.int32)
    encoding = np.full(count, -1, np.int8)
    minimum, maximum, mean, std = (np.full(count, np.nan) for _ in range(4))
    at: list[int] = []
    images: list[ImageFacts] = []
    for i, r in enumerate(rows):
        if r.image is not None:
            at.append(i)
            images.append(r.image)
    if at:
        measured = len(at)
        content[at] = np.fromiter([hex64(f.content_hash) for f in images], np.uint64, measured)
        file_hash[at] = np.fromiter([hex64(f.file_hash) for f in images], np.uint64, measured)
        hashes = [f.phash for f in images]
        has_phash[at] = [h is not None for h in hashes]
        phash[at] = np.fromiter([h or 0 for h in hashes], np.uint64, measured)
        encodings = [f.encoding for f in images]
        encoding[at] = [ENCODING_INDEX[e] for e in encodings]
        image_kind[at] = [kinds.setdefault((f.dtype, f.channels, e.value), len(kinds))
                          for f, e in zip(images, encodings, strict=True)]
        minimum[at] = [f.minimum for f in images]
        maximum[at] = [f.maximum for f in images]
        mean[at] = [f.mean for f in images]
        std[at] = [f.std for f in images]

    mask_kind = np.zeros(count, np.int8)
    non_empty, negative, only_ignore, undeclared = (np.zeros(count, np.bool_) for _ in range(4))
    scale = np.zeros(count, np.int8)
    share = np.full(count, np.nan)
    high = np.full(count, -np.inf)
    single: list[int] = []
    maps: list[int] = []
    shares: list[float] = []
    filled: list[bool] = []
    traits: list[LabelMap] = []
    for i, r in enumerate(rows):
        mask = r.mask
        if mask is None:
            continue
        if mask.is_multichannel:
            mask_kind[i] = MaskKind.COLOUR
            continue
        foreground, labelled = mask.foreground(ignore_index), mask.labelled(ignore_index)
        single.append(i)
        filled.append(foreground > 0)
        shares.append(foreground / labelled if labelled else 0.0)
        if looks_like_image(mask) is not None:
            mask_kind[i] = MaskKind.PICTURE
            continue
        maps.append(i)
        traits.append(label_map(mask, ignore_index, labels))
    if single:
        share[single] = shares
        non_empty[single] = filled
    if maps:
        mask_kind[maps] = MaskKind.LABEL_MAP
        scale[maps] = [t.scale for t in traits]
        negative[maps] = [t.negative for t in traits]
        high[maps] = [t.high for t in traits]
        only_ignore[maps] = [t.only_ignore for t in traits]
        undeclared[maps] = [t.undeclared for t in traits]
    return Keys(row, split, gone, image_path, mask_path, group, content, file_hash, phash, has_phash, image_kind,
                encoding, minimum, maximum, mean, std, mask_kind, non_empty, share, scale, negative, high,
                only_ignore, undeclared)


EMPTY = build_keys([], {}, {}, None, None, frozenset(), False)
