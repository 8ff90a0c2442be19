"""Read annotation files with bounded memory: images and categories are held, annotations are streamed.

Each file is mapped into memory (pages the kernel can drop, not a copy), its top-level layout found in one
pass, then ``annotations`` streamed element by element by ijson and reduced at once to facts packed in
columns. Overlaps are then measured per image group, decoding again only the elements that may overlap.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any

import ijson

from maskaudit.annotations.columns import AnnotationColumns, ColumnsBuilder, empty_columns
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
from maskaudit.annotations.layout import Layout, Released, scan_layout
from maskaudit.annotations.overlaps import Mask, measure_overlaps
from maskaudit.errors import UsageError

COCO_KEYS = ("images", "annotations", "categories")


class _Range:
    """A file-like view of bytes [start, end) of a memory map, for ijson."""

    def __init__(self, data: mmap.mmap, start: int, end: int) -> None:
        self._data, self._position, self._end = data, start, end
        self._released = Released(data)

    def read(self, size: int = -1) -> bytes:
        stop = self._end if size < 0 else min(self._end, self._position + size)
        chunk = self._data[self._position:stop]
        self._position = stop
        self._released.upto(stop)
        return chunk


def read_annotations(given: Input, split_field: str | None = None) -> AnnotationSet:
    """Read every file of the input; a file that is not what the input kind says is a usage error naming it."""
    sources: list[Source] = []
    images: list[ImageEntry] = []
    categories: list[CategoryEntry] = []
    parts: list[AnnotationColumns] = []
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
            parts.append(read_partition(given.kind, number, len(given.files), images[first:],
                                        _items(data, layout, "annotations"), _element_reader(data, layout),
                                        layout.count("annotations")))
    annotations = AnnotationColumns.concat(parts) if parts else empty_columns(0)
    return AnnotationSet(given.kind, tuple(sources), tuple(images), tuple(categories), annotations)


def annotation_elements(sources: Sequence[Source], counts: Sequence[int]
                        ) -> Callable[[int], AbstractContextManager[Callable[[int], Any]]]:
    """For file ``number``, a context that maps it and gives the reader of its ``annotations`` elements; the file
    must still hold ``counts[number]`` of them."""

    @contextmanager
    def elements(number: int) -> Iterator[Callable[[int], Any]]:
        path = sources[number].path
        with _mapped(path) as data:
            layout = scan_layout(data, {"annotations"}, path)
            if layout.count("annotations") != counts[number]:
                raise UsageError(f"{path} changed while it was audited, or holds annotations that are not JSON "
                                 "objects; scan it again, or without --rasterize")
            yield _element_reader(data, layout)

    return elements


def _element_reader(data: mmap.mmap, layout: Layout) -> Callable[[int], Any]:
    """Element ``position`` of ``annotations`` parsed again from its bytes (for the few elements read twice)."""

    def read(position: int) -> Any:
        start, end = layout.span("annotations", position)
        return json.loads(data[start:end])

    return read


def read_partition(kind: InputKind, source: int, sources: int, images: Sequence[ImageEntry], records: Iterable[Any],
                   fetch: Callable[[int], Any], elements: int) -> AnnotationColumns:
    """The facts of one file's ``annotations``, given its image records; ``fetch`` reads element ``position``
    again (of ``elements`` it can find) for the overlap measure."""
    sizes = _sizes(images)
    own = images[0].id if kind is InputKind.SA1B and images else None  # an SA-1B annotation is its file's image's
    builder = ColumnsBuilder(source, sources)
    for position, record in enumerate(records):
        builder.add(_facts(record, source, position, sizes, own))
    part = builder.finish()
    if elements != len(part):
        return part  # an element that is no JSON object or array hides from the layout: overlaps are not measured

    def mask_of(position: int) -> Mask | None:
        facts = _facts(fetch(position), source, position, sizes, own)
        return (facts.rle, facts.decoded_size) if facts.rle and facts.decoded_size is not None else None

    return replace(part, overlaps=measure_overlaps(part, mask_of))


def _facts(record: Any, source: int, position: int, sizes: Mapping[Key, tuple[int, int]], own: Key) -> AnnotationFacts:
    image_id = _key(record.get("image_id")) if isinstance(record, Mapping) else None
    facts = annotation_facts(record, position, source, position, sizes.get(image_id if image_id is not None or
                                                                           own is None else own))
    if own is not None and image_id is None and isinstance(record, Mapping):
        facts = replace(facts, image_id=own)
    return facts


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
