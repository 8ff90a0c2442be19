"""The facts of an annotation input as its checks see them, and how a check over them is declared."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from maskaudit.annotations.columns import AnnotationColumns, first_positions, keys_of
from maskaudit.annotations.facts import AnnotationFacts, AnnotationSet, CategoryEntry, ImageEntry, Key, Source
from maskaudit.checks.base import Check, Family, Kind, Stage
from maskaudit.facts import ImageFacts, RowFacts
from maskaudit.findings import Hit, Severity
from maskaudit.settings import Settings

AnnotationFn = Callable[["AnnotationContext", Mapping[str, float]], Iterable[Hit]]


def annotation_check(
    code: str, name: str, severity: Severity, kept: bool = False,
    options: Mapping[str, tuple[float, str]] | None = None,
) -> Callable[[AnnotationFn], Check]:
    """A check over an annotation file's records (``kept``: over what the filtered file keeps)."""
    opts = options or {}

    def wrap(fn: AnnotationFn) -> Check:
        return Check(code=code, name=name, severity=severity, family=Family.ANNOTATIONS, kind=Kind.ANNOTATIONS,
                     stage=Stage.ANNOTATIONS_KEPT if kept else Stage.ANNOTATIONS, run=fn, per_row=False,
                     options=MappingProxyType({k: v[0] for k, v in opts.items()}),
                     option_help=MappingProxyType({k: v[1] for k, v in opts.items()}))

    return wrap


@dataclass(frozen=True)
class AnnotationContext:
    """Images, categories and annotations of every input file, with the decoded image facts by row.

    ``image_rows`` may be empty (images not decoded); ``kept_*`` are None until record checks have decided
    (``kept_annotations``: a flag per annotation index).
    """

    data: AnnotationSet
    settings: Settings = field(default_factory=Settings)
    image_rows: Sequence[RowFacts] = ()
    kept_images: frozenset[int] | None = None
    kept_annotations: NDArray[np.bool_] | None = None

    def with_kept(self, images: frozenset[int], annotations: NDArray[np.bool_]) -> AnnotationContext:
        return replace(self, kept_images=images, kept_annotations=annotations)

    @property
    def sources(self) -> tuple[Source, ...]:
        return self.data.sources

    @property
    def annotations(self) -> AnnotationColumns:
        return self.data.annotations

    @cached_property
    def category_ids(self) -> dict[int, dict[Key, CategoryEntry]]:
        """Each file's categories by id (the first of a repeated id)."""
        found: dict[int, dict[Key, CategoryEntry]] = defaultdict(dict)
        for category in self.data.categories:
            found[category.source].setdefault(category.id, category)
        return found

    @cached_property
    def first_image(self) -> NDArray[np.int64]:
        """Each image row's first image record of its file with its id (the record an id names)."""
        found = np.arange(len(self.data.images), dtype=np.int64)
        for rows in self._image_rows_by_source.values():
            ids = keys_of([self.data.images[row].id for row in rows])
            found[rows] = rows[first_positions(ids, ids)]
        return found

    @cached_property
    def annotation_image(self) -> NDArray[np.int64]:
        """Each annotation's image row (the first image record of its file with its image_id), or -1."""
        columns = self.annotations
        found = np.full(len(columns), -1, dtype=np.int64)
        for source, rows in self._image_rows_by_source.items():
            start, end = int(columns.starts[source]), int(columns.starts[source + 1])
            ids = keys_of([self.data.images[row].id for row in rows])
            at = first_positions(ids, columns.image_id[start:end])
            found[start:end] = np.where(at >= 0, rows[at], -1)
        return found

    @cached_property
    def _image_rows_by_source(self) -> dict[int, NDArray[np.int64]]:
        rows: dict[int, list[int]] = defaultdict(list)
        for image in self.data.images:
            rows[image.source].append(image.row)
        return {source: np.array(found, dtype=np.int64) for source, found in rows.items()}

    @cached_property
    def image_sizes(self) -> NDArray[np.int64]:
        """Each image row's declared (height, width), 0 where it declares none."""
        return np.array([i.size or (0, 0) for i in self.data.images], dtype=np.int64).reshape(-1, 2)

    @cached_property
    def annotation_split(self) -> tuple[NDArray[np.int64], list[str]]:
        """Each annotation's split (its image's, else its file's) as a number, and the split names."""
        names = self.split_names
        number = {name: n for n, name in enumerate(names)}
        by_image = np.array([number[i.split] for i in self.data.images] + [0], dtype=np.int64)
        by_source = np.array([number[s.split] for s in self.sources] + [0], dtype=np.int64)
        image = self.annotation_image
        return np.where(image >= 0, by_image[image], by_source[self.annotations.source]), names

    def image_of(self, annotation: AnnotationFacts) -> ImageEntry | None:
        row = int(self.annotation_image[annotation.index])
        return self.data.images[row] if row >= 0 else None

    def facts_of(self, image: ImageEntry) -> ImageFacts | None:
        return self.image_rows[image.row].image if image.row < len(self.image_rows) else None

    def split_of(self, annotation: AnnotationFacts) -> str:
        image = self.image_of(annotation)
        return image.split if image is not None else self.sources[annotation.source].split

    @cached_property
    def split_names(self) -> list[str]:
        return list(dict.fromkeys([s.split for s in self.sources] + [i.split for i in self.data.images]))

    @cached_property
    def usable_images(self) -> list[ImageEntry]:
        kept = self.kept_images
        return [i for i in self.data.images if kept is None or i.row in kept]

    @cached_property
    def usable_annotations(self) -> NDArray[np.int64]:
        """The indices of the annotations the filtered file keeps (all, until that is decided)."""
        if self.kept_annotations is None:
            return np.arange(len(self.annotations), dtype=np.int64)
        return np.flatnonzero(self.kept_annotations)

    def annotation_hit(self, annotation: AnnotationFacts, message: str, **details: Any) -> Hit:
        """A finding on one annotation, naming its id, its image's id and file name, and its file."""
        image = self.image_of(annotation)
        source = self.sources[annotation.source]
        where = f"annotation {annotation.id!r} (#{annotation.position} in {source.name})"
        if image is not None:
            where += f" on image {image.id!r} ({image.file_name})"
        return Hit(f"{where}: {message}", row=image.row if image is not None else None,
                   split=self.split_of(annotation), path=image.file_name if image is not None else None,
                   details={"file": source.name, "annotation_id": annotation.id, "annotation_index": annotation.index,
                            "image_id": annotation.image_id, **details})

    def image_hit(self, image: ImageEntry, message: str, **details: Any) -> Hit:
        """A finding on one image record: the image and every annotation on it are left out of the filtered file."""
        source = self.sources[image.source]
        return Hit(f"image {image.id!r} ({image.file_name}, #{image.position} in {source.name}): {message}",
                   row=image.row, split=image.split, path=image.file_name,
                   details={"file": source.name, "image_id": image.id, **details})
