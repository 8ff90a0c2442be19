"""Read annotation files with bounded memory: images and categories are held, annotations are streamed.

Each file is mapped into memory (pages the kernel can drop, not a copy), its top-level layout found in one
pass, then ``annotations`` streamed element by element by ijson and reduced to facts at once.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import ijson

from maskaudit.annotations.detect import Input
from maskaudit.annotations.facts import (
    AnnotationFacts,
    AnnotationSet,
    CategoryEntry,
    ImageEntry,
    InputKind,
    Key,
    Source,
)
from maskaudit.annotations.geometry import annotation_facts
from maskaudit.annotations.layout import Layout, scan_layout
from maskaudit.errors import UsageError

COCO_KEYS = ("images", "annotations", "categories")


class _Range:
    """A file-like view of bytes [start, end) of a memory map, for ijson."""

    def __init__(self, data: mmap.mmap, start: int, end: int) -> None:
        self._data, self._position, self._end = data, start, end

    def read(self, size: int = -1) -> bytes:
        stop = self._end if size < 0 else min(self._end, self._position + size)
        chunk = self._data[self._position:stop]
        self._position = stop
        return chunk


def read_annotations(given: Input, split_field: str | None = None) -> AnnotationSet:
    """Read every file of the input; a file that is not what the input kind says is a usage error naming it."""
    sources: list[Source] = []
    images: list[ImageEntry] = []
    categories: list[CategoryEntry] = []
    annotations: list[AnnotationFacts] = []
    for number, (path, split) in enumerate(given.files):
        sources.append(Source(path, os.path.basename(path), split))
        with _mapped(path) as data:
            if given.kind is InputKind.COCO:
                layout = scan_layout(data, {"images", "annotations"}, path)
                missing = [key for key in COCO_KEYS if key not in layout.values]
                if missing:
                    raise UsageError(f"{path} lacks {', '.join(missing)}: a COCO file holds images, annotations "
                                     "and categories")
                records = _items(data, layout, "images")
                categories.extend(category_entry(number, c) for c in _items(data, layout, "categories"))
            else:
                layout = scan_layout(data, {"annotations"}, path)
                if "image" not in layout.values or "annotations" not in layout.values:
                    raise UsageError(f"{path} lacks image or annotations: an SA-1B file holds one image object "
                                     "and its annotations")
                records = iter([_load_value(data, layout, "image")])
            first = len(images)
            images.extend(image_entry(len(images), number, position, record, split, split_field)
                          for position, record in enumerate(records))
            sizes = _sizes(images[first:])
            for position, record in enumerate(_items(data, layout, "annotations")):
                image_id = _key(record.get("image_id")) if isinstance(record, Mapping) else None
                facts = annotation_facts(record, len(annotations), number, position, sizes.get(image_id)
                                         if image_id is not None or given.kind is InputKind.COCO
                                         else sizes.get(images[first].id))
                if given.kind is InputKind.SA1B and image_id is None and isinstance(record, Mapping):
                    facts = replace(facts, image_id=images[first].id)  # an SA-1B annotation is its file's image's
                annotations.append(facts)
    return AnnotationSet(given.kind, tuple(sources), tuple(images), tuple(categories), annotations)


@contextmanager
def _mapped(path: str) -> Iterator[mmap.mmap]:
    """The file mapped read-only: pages the kernel reads on demand and may drop, never a copy in memory."""
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size == 0:
                raise UsageError(f"{path} is empty (0 bytes); point at an annotation file")
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError as exc:
        raise UsageError(f"cannot read {path} ({exc.strerror or exc})") from None
    try:
        yield data
    finally:
        data.close()


def _items(data: mmap.mmap, layout: Layout, key: str) -> Iterator[Any]:
    start, end = layout.values[key]
    if data[start] != ord("["):
        return
    try:
        yield from ijson.items(_Range(data, start, end), "item", use_float=True)
    except ijson.JSONError as exc:
        raise UsageError(f"{key} of the annotation file is not valid JSON ({exc}); re-export it") from None


def _load_value(data: mmap.mmap, layout: Layout, key: str) -> Any:
    start, end = layout.values[key]
    return next(ijson.items(_Range(data, start, end), "", use_float=True), None)


def image_entry(row: int, source: int, position: int, record: Any, split: str, split_field: str | None) -> ImageEntry:
    if not isinstance(record, Mapping):
        return ImageEntry(row, source, position, None, None, None, None, split)
    named = record.get(split_field) if split_field is not None else None
    file_name = record.get("file_name")
    return ImageEntry(
        row=row, source=source, position=position, id=_key(record.get("id", record.get("image_id"))),
        file_name=file_name if isinstance(file_name, str) else None,
        width=_dimension(record.get("width")), height=_dimension(record.get("height")),
        split=str(named) if named is not None else split,
    )


def category_entry(source: int, record: Any) -> CategoryEntry:
    if not isinstance(record, Mapping):
        return CategoryEntry(source, None, "")
    return CategoryEntry(source, _key(record.get("id")), str(record.get("name", "")))


def _sizes(images: Sequence[ImageEntry]) -> dict[Key, tuple[int, int]]:
    sizes: dict[Key, tuple[int, int]] = {}
    for image in images:
        if image.size is not None:
            sizes.setdefault(image.id, image.size)
    return sizes


def _dimension(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _key(value: Any) -> Key:
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, int | str | float) else None
