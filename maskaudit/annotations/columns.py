"""Annotation facts packed per field: one numpy array each, a few bytes an annotation instead of a Python object.

Ids are int64 while every id of a column is an integer (COCO's case); a column that holds anything else (a
string, a float, a missing id) is an object array, and the helpers here give both the same dict semantics.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from maskaudit.annotations.facts import AnnotationFacts, Key, SegmentationKind

KINDS: tuple[SegmentationKind, ...] = tuple(SegmentationKind)
_KIND_CODE = {kind: code for code, kind in enumerate(KINDS)}
_INT64 = (-(1 << 63), (1 << 63) - 1)
NO_BOX = (np.nan, np.nan, np.nan, np.nan)


class KeysBuilder:
    """Ids appended one by one: packed as int64 until one is not an integer, then held as Python objects."""

    __slots__ = ("_ints", "_objects")

    def __init__(self) -> None:
        self._ints: array[int] = array("q")
        self._objects: list[Key] | None = None

    def append(self, key: Key) -> None:
        if self._objects is None:
            if type(key) is int and _INT64[0] <= key <= _INT64[1]:
                self._ints.append(key)
                return
            self._objects = list[Key](self._ints.tolist())
            self._ints = array("q")
        self._objects.append(key)

    def finish(self) -> NDArray[Any]:
        if self._objects is None:
            return packed(self._ints, np.int64)
        return object_array(self._objects)


def object_array(values: Sequence[Any]) -> NDArray[Any]:
    found = np.empty(len(values), dtype=object)
    found[:] = values
    return found


def keys_of(values: Sequence[Key]) -> NDArray[Any]:
    builder = KeysBuilder()
    for value in values:
        builder.append(value)
    return builder.finish()


def factorize(keys: NDArray[Any]) -> tuple[NDArray[np.int64], list[Key]]:
    """Codes for the keys (equal keys, one code; numbered in order of first appearance) and the distinct keys."""
    if keys.dtype == np.int64:
        distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return rank[inverse.reshape(-1)], distinct[order].tolist()
    codes: dict[Key, int] = {}
    found = np.fromiter((codes.setdefault(k, len(codes)) for k in keys.tolist()), dtype=np.int64, count=len(keys))
    return found, list(codes)


def first_positions(table: NDArray[Any], queries: NDArray[Any]) -> NDArray[np.int64]:
    """For each query key, the position of the first equal key in ``table``, or -1."""
    if not len(table) or not len(queries):
        return np.full(len(queries), -1, dtype=np.int64)
    if table.dtype == np.int64 and queries.dtype == np.int64:
        distinct, first = np.unique(table, return_index=True)
        at = np.minimum(np.searchsorted(distinct, queries), len(distinct) - 1)
        return np.where(distinct[at] == queries, first[at], -1).astype(np.int64)
    index: dict[Key, int] = {}
    for number, key in enumerate(table.tolist()):
        index.setdefault(key, number)
    return np.fromiter((index.get(k, -1) for k in queries.tolist()), dtype=np.int64, count=len(queries))


@dataclass(frozen=True)
class Overlaps:
    """Pairs of instances of one category on one image whose masks overlap (``later`` > ``earlier``, indices)."""

    later: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    earlier: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    iou: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0, dtype=np.float64))


@dataclass(frozen=True, eq=False)
class AnnotationColumns:
    """Every annotation's facts (see AnnotationFacts), one array per field, numbered by index across files.

    Missing values: NaN in float columns, -1 in ``mask_area``, 0 in ``rle_size``. Polygon point counts are
    ragged: annotation i's are ``parts[part_start[i]:part_start[i + 1]]``. ``starts[s]`` is the index of file
    s's first annotation (a file's annotations are contiguous), so a position in the file is index - starts.
    """

    starts: NDArray[np.int64]
    source: NDArray[np.int32]
    id: NDArray[Any]
    image_id: NDArray[Any]
    category_id: NDArray[Any]
    iscrowd: NDArray[np.bool_]
    kind: NDArray[np.uint8]
    bbox: NDArray[np.float64]
    area: NDArray[np.float64]
    part_start: NDArray[np.int64]
    parts: NDArray[np.int32]
    rle_size: NDArray[np.int32]
    extent: NDArray[np.float64]
    mask_area: NDArray[np.int64]
    mask_bbox: NDArray[np.float64]
    problems: Mapping[int, str] = field(default_factory=lambda: MappingProxyType({}))
    overlaps: Overlaps = field(default_factory=Overlaps)

    def __len__(self) -> int:
        return len(self.source)

    @property
    def nbytes(self) -> int:
        """The arrays' bytes (object columns counted as their pointers)."""
        return sum(value.nbytes for value in vars(self).values() if isinstance(value, np.ndarray))

    def position(self, index: int) -> int:
        return index - int(self.starts[self.source[index]])

    def positions(self, indices: NDArray[np.int64]) -> NDArray[np.int64]:
        return indices - self.starts[self.source[indices]]

    def has_problem(self) -> NDArray[np.bool_]:
        found = np.zeros(len(self), dtype=np.bool_)
        found[list(self.problems)] = True
        return found

    def is_kind(self, *kinds: SegmentationKind) -> NDArray[np.bool_]:
        return np.isin(self.kind, [_KIND_CODE[k] for k in kinds])

    def record(self, index: int) -> AnnotationFacts:
        """Annotation ``index`` as one record, for the few a check reports."""
        i = int(index)
        points = tuple(self.parts[self.part_start[i]:self.part_start[i + 1]].tolist())
        rle_size = self.rle_size[i]
        return AnnotationFacts(
            index=i, source=int(self.source[i]), position=self.position(i), id=_item(self.id, i),
            image_id=_item(self.image_id, i),
            category_id=_item(self.category_id, i), iscrowd=bool(self.iscrowd[i]), kind=KINDS[self.kind[i]],
            bbox=_box(self.bbox[i]), area=_float(self.area[i]), polygon_points=points,
            rle_size=(int(rle_size[0]), int(rle_size[1])) if rle_size[0] else None, extent=_box(self.extent[i]),
            mask_area=int(self.mask_area[i]) if self.mask_area[i] >= 0 else None, mask_bbox=_box(self.mask_bbox[i]),
            problem=self.problems.get(i))

    def records(self, indices: Sequence[int] | NDArray[np.int64]) -> Iterator[AnnotationFacts]:
        for index in indices:
            yield self.record(int(index))

    @staticmethod
    def concat(parts: Sequence[AnnotationColumns]) -> AnnotationColumns:
        """Partitions in file order (each file's annotations in one) as one set of columns, numbered across them."""
        if len(parts) == 1:
            return parts[0]
        sizes = np.array([len(p) for p in parts], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        point_offsets = np.concatenate([[0], np.cumsum([len(p.parts) for p in parts])])
        starts = np.sum([p.starts for p in parts], axis=0)  # each part counts its annotations from its file on

        def joined(name: str) -> NDArray[Any]:
            arrays = [getattr(p, name) for p in parts]
            if any(a.dtype == object for a in arrays) and not all(a.dtype == object for a in arrays):
                arrays = [a.astype(object) for a in arrays]
            return np.concatenate(arrays) if arrays else np.zeros(0)

        return AnnotationColumns(
            starts=starts.astype(np.int64), source=joined("source"), id=joined("id"), image_id=joined("image_id"),
            category_id=joined("category_id"), iscrowd=joined("iscrowd"), kind=joined("kind"), bbox=joined("bbox"),
            area=joined("area"), parts=joined("parts"), rle_size=joined("rle_size"), extent=joined("extent"),
            mask_area=joined("mask_area"), mask_bbox=joined("mask_bbox"),
            part_start=np.concatenate([p.part_start[:-1] + point_offsets[n] for n, p in enumerate(parts)]
                                      + [point_offsets[-1:]]).astype(np.int64),
            problems=MappingProxyType({index + int(offsets[n]): text for n, p in enumerate(parts)
                                       for index, text in p.problems.items()}),
            overlaps=Overlaps(*(np.concatenate([getattr(p.overlaps, name) + (offsets[n] if name != "iou" else 0)
                                                for n, p in enumerate(parts)])
                                for name in ("later", "earlier", "iou"))))


class ColumnsBuilder:
    """The facts of one file's annotations, appended record by record into packed arrays."""

    def __init__(self, source: int, sources: int) -> None:
        self._source, self._sources = source, sources
        self._id, self._image_id, self._category_id = KeysBuilder(), KeysBuilder(), KeysBuilder()
        self._flags: array[int] = array("B")  # iscrowd
        self._kind: array[int] = array("B")
        self._bbox: array[float] = array("d")
        self._area: array[float] = array("d")
        self._part_start: array[int] = array("q", [0])
        self._parts: array[int] = array("i")
        self._rle_size: array[int] = array("i")
        self._extent: array[float] = array("d")
        self._mask_area: array[int] = array("q")
        self._mask_bbox: array[float] = array("d")
        self._problems: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._kind)

    def add(self, facts: AnnotationFacts) -> None:
        if facts.problem is not None:
            self._problems[len(self)] = facts.problem
        self._id.append(facts.id)
        self._image_id.append(facts.image_id)
        self._category_id.append(facts.category_id)
        self._flags.append(facts.iscrowd)
        self._kind.append(_KIND_CODE[facts.kind])
        self._bbox.extend(facts.bbox or NO_BOX)
        self._area.append(np.nan if facts.area is None else facts.area)
        self._parts.extend(facts.polygon_points)
        self._part_start.append(len(self._parts))
        self._rle_size.extend(facts.rle_size or (0, 0))
        self._extent.extend(facts.extent or NO_BOX)
        self._mask_area.append(-1 if facts.mask_area is None else facts.mask_area)
        self._mask_bbox.extend(facts.mask_bbox or NO_BOX)

    def finish(self) -> AnnotationColumns:
        """The columns, the only file of ``sources`` files whose annotations they hold."""
        count = len(self)
        starts = np.full(self._sources + 1, count, dtype=np.int64)
        starts[:self._source + 1] = 0
        return AnnotationColumns(
            starts=starts, source=np.full(count, self._source, dtype=np.int32), id=self._id.finish(),
            image_id=self._image_id.finish(), category_id=self._category_id.finish(),
            iscrowd=packed(self._flags, np.bool_), kind=packed(self._kind, np.uint8), bbox=_matrix(self._bbox, 4),
            area=packed(self._area, np.float64), part_start=packed(self._part_start, np.int64),
            parts=packed(self._parts, np.int32), rle_size=packed(self._rle_size, np.int32).reshape(count, 2),
            extent=_matrix(self._extent, 4), mask_area=packed(self._mask_area, np.int64),
            mask_bbox=_matrix(self._mask_bbox, 4),
            problems=MappingProxyType(self._problems))


def empty_columns(sources: int) -> AnnotationColumns:
    return ColumnsBuilder(0, sources).finish()


def packed(values: array[Any], dtype: type[Any]) -> NDArray[Any]:
    """The array's memory seen by numpy, not copied (the array can no longer grow)."""
    return np.frombuffer(values, dtype=dtype) if len(values) else np.zeros(0, dtype=dtype)


def _matrix(values: array[float], width: int) -> NDArray[np.float64]:
    return packed(values, np.float64).reshape(len(values) // width, width)


def _item(keys: NDArray[Any], index: int) -> Key:
    value = keys[index]
    return int(value) if keys.dtype == np.int64 else value  # type: ignore[no-any-return]


def _float(value: np.float64) -> float | None:
    return None if np.isnan(value) else float(value)


def _box(values: NDArray[np.float64]) -> tuple[float, float, float, float] | None:
    if np.isnan(values[0]):
        return None
    x, y, w, h = values.tolist()
    return x, y, w, h
